# ASan + UBSan for every target when REPROIMG_SANITIZE is on (reproimg_sanitizers).
add_library(reproimg_sanitizers INTERFACE)
if(REPROIMG_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(reproimg_sanitizers INTERFACE ${_san})
  target_link_options(reproimg_sanitizers INTERFACE ${_san})
endif()
