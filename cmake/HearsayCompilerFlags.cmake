# Warnings and code generation shared by every hearsay target (hearsay::flags).
add_library(hearsay_flags INTERFACE)
add_library(hearsay::flags ALIAS hearsay_flags)
target_compile_options(hearsay_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
  # GCC 12 at -O3 reports false -Wrestrict positives inside std::string (GCC bug 105329).
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-restrict>)
if(HEARSAY_NATIVE)
  target_compile_options(hearsay_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # Portable baseline: x86-64-v2 (SSE4.2, POPCNT). Faster paths use target attributes.
  target_compile_options(hearsay_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-march=x86-64-v2>)
endif()
if(HEARSAY_WERROR)
  target_compile_options(hearsay_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()
if(HEARSAY_TSAN)
  # A target may opt out of instrumentation with the property HEARSAY_NO_TSAN (the codecs: no
  # threads inside, and their target_clones resolvers run before the TSan runtime is up).
  target_compile_options(hearsay_flags INTERFACE
    $<$<NOT:$<BOOL:$<TARGET_PROPERTY:HEARSAY_NO_TSAN>>>:-fsanitize=thread -fno-omit-frame-pointer>
    # Asio's fences are not modelled by TSan (GCC says so on every file); its mutexes are.
    $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  target_link_options(hearsay_flags INTERFACE -fsanitize=thread)
endif()
if(HEARSAY_FUZZ)
  # libFuzzer (clang only): every library is instrumented for coverage and checked by ASan and
  # UBSan; the fuzz executables (fuzz/) add the libFuzzer driver with -fsanitize=fuzzer.
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "HEARSAY_FUZZ needs clang (e.g. CXX=clang++-14)")
  endif()
  target_compile_options(hearsay_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  # The usual libFuzzer convention (as on OSS-Fuzz): code may lower size limits under fuzzing so
  # that each input stays fast (topology_parser.cc: at most 64 nodes).
  target_compile_definitions(hearsay_flags INTERFACE FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
  target_link_options(hearsay_flags INTERFACE -fsanitize=address,undefined)
endif()
if(HEARSAY_SANITIZE)
  target_compile_options(hearsay_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(hearsay_flags INTERFACE -fsanitize=address,undefined)
endif()
