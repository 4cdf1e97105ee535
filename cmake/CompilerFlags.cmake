# Warnings and code generation shared by every target (uniem_flags).
add_library(uniem_flags INTERFACE)
target_compile_options(uniem_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${UNIEM_WERROR}>>:-Werror>)
if(UNIEM_NATIVE)
  target_compile_options(uniem_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-march=native>)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # Portable default: any x86-64 from Haswell (2013) / Zen on, AVX2 + FMA.
  target_compile_options(uniem_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-march=x86-64-v3>)
endif()
