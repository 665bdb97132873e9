// The ssh command lines of `launch --hosts`: quoting survives a real shell, PATH lookup.
#include "runtime/launch/remote.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace hearsay {
namespace {

// What /bin/sh makes of `text`: its words, one per line.
std::string ShellWords(const std::string& text) {
  std::string out;
  FILE* p = popen(("printf '%s\\n' " + text).c_str(), "r");
  char buf[256];
  while (p && fgets(buf, sizeof(buf), p)) out += buf;
  if (p) pclose(p);
  return out;
}

TEST(Remote, ShellQuoteKeepsEveryWordIntact) {
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  for (const std::string word : {"a b", "it's", "$(rm -rf /)", "`x`", "\"q\"", "back\\slash", ""}) {
    EXPECT_EQ(ShellWords(ShellQuote(word)), word + "\n") << word;
  }
}

TEST(Remote, SshArgvRunsTheCommandInTheFolder) {
  const auto argv = SshArgv("/usr/bin/ssh", "alice@h1", "/work/my exp",
                            {"/opt/hearsay", "peer", "--run", "it's"});
  ASSERT_EQ(argv.size(), 5u);
  EXPECT_EQ(argv[0], "/usr/bin/ssh");
  EXPECT_EQ(argv[1], "-o");
  EXPECT_EQ(argv[2], "BatchMode=yes");
  EXPECT_EQ(argv[3], "alice@h1");
  EXPECT_EQ(argv[4], "cd '/work/my exp' && exec '/opt/hearsay' 'peer' '--run' 'it'\\''s'");
}

TEST(Remote, FindOnPath) {
  auto sh = FindOnPath("sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(sh->back(), 'h');
  EXPECT_EQ(*FindOnPath("./x/ssh"), "./x/ssh");  // a path is taken as is
  auto none = FindOnPath("no-such-program-hearsay");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "no-such-program-hearsay: not found on PATH (install the OpenSSH client: "
            "openssh-client)");
}

}  // namespace
}  // namespace hearsay
