# ASan + UBSan for every target when REPROIMG_SANITIZE (or REPROIMG_FUZZ) is on (reproimg_sanitizers).
add_library(reproimg_sanitizers INTERFACE)
if(REPROIMG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "REPROIMG_FUZZ needs clang (libFuzzer): configure with CXX=clang++")
  endif()
  # Coverage instrumentation for every library; only the fuzz executables link libFuzzer's main.
  target_compile_options(reproimg_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(REPROIMG_SANITIZE OR REPROIMG_FUZZ)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(reproimg_sanitizers INTERFACE ${_san})
  target_link_options(reproimg_sanitizers INTERFACE ${_san})
endif()
