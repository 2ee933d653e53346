# Run at every build (cmake -P): writes OUTPUT, a header defining SOCKSNAP_GIT_COMMIT as the commit
# SOURCE_DIR is checked out at, or "unknown" when it is not the top of a git checkout (a source
# tarball, even one unpacked inside some other repository) or git is missing. The header is
# rewritten only when the commit changes, so that nothing is rebuilt otherwise.
cmake_minimum_required(VERSION 3.25)
set(commit "unknown")
find_program(GIT_PROGRAM git)
if(GIT_PROGRAM)
  execute_process(COMMAND ${GIT_PROGRAM} -C ${SOURCE_DIR} rev-parse --show-toplevel HEAD
    OUTPUT_VARIABLE out RESULT_VARIABLE status ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(status EQUAL 0)
    string(REPLACE "\n" ";" lines "${out}")
    list(LENGTH lines count)
    if(count EQUAL 2)
      list(GET lines 0 top)
      list(GET lines 1 head)
      file(REAL_PATH "${top}" top)
      file(REAL_PATH "${SOURCE_DIR}" source)
      if(top STREQUAL source AND head MATCHES "^[0-9a-f]+$")
        set(commit "${head}")
      endif()
    endif()
  endif()
endif()
file(CONFIGURE OUTPUT "${OUTPUT}" CONTENT "#define SOCKSNAP_GIT_COMMIT \"@commit@\"\n" @ONLY)
