# Third-party libraries, all from Debian packages (see README for the apt line).
find_package(PkgConfig REQUIRED)
find_package(LibArchive REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
pkg_check_modules(LZMA REQUIRED IMPORTED_TARGET liblzma)
find_package(BZip2 REQUIRED)
find_package(cxxopts REQUIRED)
find_package(nlohmann_json 3 REQUIRED)

# Common settings for project targets.
function(reproimg_target target)
  target_link_libraries(${target} PRIVATE reproimg_warnings reproimg_sanitizers)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()
