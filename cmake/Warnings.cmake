# Warning flags every target links through reproimg_warnings.
add_library(reproimg_warnings INTERFACE)
target_compile_options(reproimg_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
  -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
# The test build (scripts/test.sh, so CI) makes every warning an error; a user's build does not,
# so that a newer compiler's new warning never stops an install.
option(REPROIMG_WERROR "Treat warnings as errors" OFF)
if(REPROIMG_WERROR)
  target_compile_options(reproimg_warnings INTERFACE -Werror)
endif()
