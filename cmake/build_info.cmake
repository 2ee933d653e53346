# Run at every build (cmake -P, from src/CMakeLists.txt): writes OUTPUT from build_info.h.in
# with the commit the sources are at ("unknown" outside a git checkout or without git).
# configure_file rewrites OUTPUT only when its text changes, so that nothing is rebuilt when the
# commit has not moved.
set(SOCKSNAP_COMMIT "unknown")
if(GIT)
  execute_process(COMMAND "${GIT}" -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
    OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE status ERROR_QUIET)
  if(status EQUAL 0 AND commit MATCHES "^[0-9a-f]+$")
    set(SOCKSNAP_COMMIT "${commit}")
  endif()
endif()
set(SOCKSNAP_VERSION "${VERSION}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/build_info.h.in" "${OUTPUT}" @ONLY)
