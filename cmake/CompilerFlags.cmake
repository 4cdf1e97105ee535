# Warnings and code generation shared by every target (uniem_flags).
add_library(uniem_flags INTERFACE)
target_compile_options(uniem_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${UNIEM_WERROR}>>:-Werror>)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports -Wrestrict inside libstdc++'s own std::string code at -O2 (GCC bugs 105329,
  # 105651), for plain string assignments and concatenations. Fixed in GCC 13.
  target_compile_options(uniem_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
if(UNIEM_NATIVE)
  target_compile_options(uniem_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-march=native>)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  # Portable default: any x86-64 from Haswell (2013) / Zen on, AVX2 + FMA.
  target_compile_options(uniem_flags INTERFACE $<$<COMPILE_LANGUAGE:CXX,C>:-march=x86-64-v3>)
endif()
