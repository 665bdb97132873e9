#include "topology/units.h"

#include <gtest/gtest.h>

namespace hearsay {
namespace {

TEST(Units, ParsesBandwidthsInBitsPerSecond) {
  EXPECT_EQ(ParseBandwidth("20Mbit").value(), 20e6);
  EXPECT_EQ(ParseBandwidth("1Gbit").value(), 1e9);
  EXPECT_EQ(ParseBandwidth("500kbit").value(), 500e3);
  EXPECT_EQ(ParseBandwidth("100Mbps").value(), 100e6);
  EXPECT_EQ(ParseBandwidth("12.5MB/s").value(), 100e6);
  EXPECT_EQ(ParseBandwidth("1MiB/s").value(), 8.0 * 1048576);
  EXPECT_EQ(ParseBandwidth("0").value(), 0);
  EXPECT_EQ(ParseBandwidth("unlimited").value(), 0);
}

TEST(Units, RejectsBareNumbersAndUnknownUnitsListingValidOnes) {
  auto bare = ParseBandwidth("20");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.status().message().find("has no unit"), std::string::npos);
  auto unknown = ParseBandwidth("20Mb");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown unit 'Mb'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("Mbit"), std::string::npos);
  EXPECT_FALSE(ParseBandwidth("-5Mbit").ok());
  EXPECT_FALSE(ParseDuration("fast").ok());
  EXPECT_FALSE(ParseDuration("20").ok());
}

TEST(Units, ParsesDurationsInSeconds) {
  EXPECT_DOUBLE_EQ(ParseDuration("20ms").value(), 0.02);
  EXPECT_DOUBLE_EQ(ParseDuration("1.5s").value(), 1.5);
  EXPECT_DOUBLE_EQ(ParseDuration("300us").value(), 300e-6);
  EXPECT_DOUBLE_EQ(ParseDuration("2min").value(), 120);
  EXPECT_EQ(ParseDuration("0").value(), 0);
}

TEST(Units, FormatParsesBackToTheSameValue) {
  for (double bps : {20e6, 1e9, 5e5, 123456.0, 1.5e6, 8.0 * 1048576}) {
    EXPECT_EQ(ParseBandwidth(FormatBandwidth(bps)).value(), bps) << FormatBandwidth(bps);
  }
  for (double s : {0.02, 1.5, 300e-6, 0.001, 0.05, 1e-9, 0.1234567}) {
    EXPECT_EQ(ParseDuration(FormatDuration(s)).value(), s) << FormatDuration(s);
  }
  EXPECT_EQ(FormatBandwidth(20e6), "20Mbit");
  EXPECT_EQ(FormatDuration(0.02), "20ms");
}

}  // namespace
}  // namespace hearsay

namespace hearsay {
namespace {

TEST(Units, AcceptsTcSpellings) {
  EXPECT_EQ(ParseBandwidth("20mbit").value(), 20e6);
  EXPECT_EQ(ParseBandwidth("1gbit").value(), 1e9);
  EXPECT_EQ(ParseBandwidth("500Kbit").value(), 500e3);
  EXPECT_EQ(ParseBandwidth("64kbit").value(), 64e3);
  EXPECT_EQ(ParseBandwidth("2KB/s").value(), 16e3);
  EXPECT_DOUBLE_EQ(ParseDuration("20msec").value(), 0.02);
  EXPECT_DOUBLE_EQ(ParseDuration("300usec").value(), 300e-6);
  EXPECT_DOUBLE_EQ(ParseDuration("2sec").value(), 2);
  EXPECT_DOUBLE_EQ(ParseDuration("1h").value(), 3600);
  EXPECT_DOUBLE_EQ(ParseFraction("1%").value(), 0.01);
  EXPECT_DOUBLE_EQ(ParseFraction("0.25").value(), 0.25);
  EXPECT_DOUBLE_EQ(ParseFraction(" 2.5 %").value(), 0.025);
  EXPECT_FALSE(ParseFraction("1 percent").ok());
  EXPECT_FALSE(ParseFraction("%").ok());
}

TEST(Units, RefusesByteRatesThatTcAndPeopleReadDifferently) {
  for (const char* text : {"20mbps", "1gbps", "5Kbps", "3MBPS"}) {
    auto r = ParseBandwidth(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find("is ambiguous"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(ParseBandwidth("20Mbps").value(), 20e6);  // the networking convention: bits
  EXPECT_EQ(ParseBandwidth("20kbps").value(), 20e3);
}

TEST(Units, BareDurationsAreSecondsOnlyWhenAsked) {
  EXPECT_FALSE(ParseDuration("30").ok());
  EXPECT_EQ(ParseDuration("30", BareNumber::kSeconds).value(), 30);
  EXPECT_EQ(ParseDuration("0.5", BareNumber::kSeconds).value(), 0.5);
  EXPECT_DOUBLE_EQ(ParseDuration("20ms", BareNumber::kSeconds).value(), 0.02);
  EXPECT_FALSE(ParseDuration("-1", BareNumber::kSeconds).ok());
}

}  // namespace
}  // namespace hearsay
