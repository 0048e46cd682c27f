# Packages from the install rules (CPack): `cpack -G DEB` in the build directory gives
#   libnn-dev      nn.h, libnn.a, the CMake package and nn.pc (and the libnn.so link);
#   libnnMAJOR.MINOR  with BUILD_SHARED_LIBS=ON, the shared library under its soname.
# The runtime package is named after the soname, as Debian Policy 8.1 asks, so that programs
# built against two incompatible libnn versions can have both installed. Configure with
# -DCMAKE_INSTALL_PREFIX=/usr, so that GNUInstallDirs picks Debian's multiarch libdir.
set(CPACK_PACKAGE_NAME libnn)
set(CPACK_PACKAGE_VENDOR "the libnn authors")
set(CPACK_PACKAGE_CONTACT "the libnn authors")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # name_version_arch.deb
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libnn-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
# The long descriptions; CPack puts the project's description above them as the synopsis.
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "Development files: the header nn.h, which is
also the manual, the static library libnn.a, the CMake package (find_package(nn):
nn::nn, nn::nn_static) and the pkg-config file nn.pc.")
if(BUILD_SHARED_LIBS)
  set(CPACK_COMPONENTS_ALL Runtime Development)
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libnn${NN_SOVERSION})
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
  set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "The shared library libnn.so.${NN_SOVERSION},
which programs linked with libnn load at run time.")
  # Depends on libc6 and whatever else the .so needs (dpkg-shlibdeps); a shlibs file for
  # the packages of programs built against it; ldconfig run on install and removal.
  set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
  set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
  # The libnn.so link in libnn-dev points at this very version of the runtime package.
  set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS Runtime)
  set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
else()
  set(CPACK_COMPONENTS_ALL Development)
endif()
include(CPack)
