# Version, git commit and build description, written into version.h at configure time.
find_package(Git QUIET)
set(UNIEM_GIT_COMMIT "unknown")
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE UNIEM_GIT_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
                  WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                  OUTPUT_VARIABLE _dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(_dirty)
    string(APPEND UNIEM_GIT_COMMIT "-dirty")
  endif()
  # Reconfigure when HEAD moves so that --version stays true.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/.git/HEAD")
  if(EXISTS "${CMAKE_SOURCE_DIR}/.git/refs/heads/main")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/.git/refs/heads/main")
  endif()
endif()
if(NOT UNIEM_GIT_COMMIT)
  set(UNIEM_GIT_COMMIT "unknown")
endif()
set(UNIEM_LINKAGE "dynamic")
if(UNIEM_STATIC_CUDA)
  set(UNIEM_LINKAGE "static-cuda (glibc, the NVIDIA driver, cuBLAS and cuDNN found at run time)")
elseif(UNIEM_STATIC)
  set(UNIEM_LINKAGE "static")
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/version.h.in ${CMAKE_BINARY_DIR}/generated/uniem/version.h @ONLY)
