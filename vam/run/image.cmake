# The VAM on Xen: the whole front end (loader, decoder, rewriter, virtual
# CPU, emulator, device models, run time) linked with the Xen back end into
# one dom0 image, bin/vam-xen.elf.  Included from the top level after
# vam-xen/ (which defines vamxen_image) so the back end's flags apply
# (-mcmodel=large: the image lives at 0xfffffc0000100000).
set(VAM_FRONT_END_SOURCES
  ${CMAKE_SOURCE_DIR}/vam/decode.c
  ${CMAKE_SOURCE_DIR}/vam/error.c
  ${CMAKE_SOURCE_DIR}/vam/loader.c
  ${CMAKE_SOURCE_DIR}/vam/memsite.c
  ${CMAKE_SOURCE_DIR}/vam/mmio.c
  ${CMAKE_SOURCE_DIR}/vam/pack.c
  ${CMAKE_SOURCE_DIR}/vam/rewrite.c
  ${CMAKE_SOURCE_DIR}/vam/stats.c
  ${CMAKE_SOURCE_DIR}/vam/lib/format.c
  ${CMAKE_SOURCE_DIR}/vam/lib/string.c
  ${CMAKE_SOURCE_DIR}/vam/cpu/vcpu.c
  ${CMAKE_SOURCE_DIR}/vam/cpu/walk.c
  ${CMAKE_SOURCE_DIR}/vam/cpu/shadow.c
  ${CMAKE_SOURCE_DIR}/vam/cpu/inject.c
  ${CMAKE_SOURCE_DIR}/vam/cpu/desc.c
  ${CMAKE_SOURCE_DIR}/vam/emul/emul.c
  ${CMAKE_SOURCE_DIR}/devmodels/iobus.c
  ${CMAKE_SOURCE_DIR}/devmodels/registry.c
  ${CMAKE_SOURCE_DIR}/devmodels/uart16550.c
  ${CMAKE_SOURCE_DIR}/devmodels/i8259.c
  ${CMAKE_SOURCE_DIR}/devmodels/i8254.c
  ${CMAKE_SOURCE_DIR}/devmodels/mc146818.c
  ${CMAKE_SOURCE_DIR}/devmodels/x2apic.c
  ${CMAKE_SOURCE_DIR}/devmodels/pci.c
  ${CMAKE_SOURCE_DIR}/devmodels/dp83820.c
  ${CMAKE_SOURCE_DIR}/vam/run/run.c
  ${CMAKE_SOURCE_DIR}/vam/run/entry.c
  ${CMAKE_SOURCE_DIR}/vam/run/platform.c
  ${CMAKE_SOURCE_DIR}/vam/run/passthrough.c)
vamxen_image(vam-xen.elf ${VAM_FRONT_END_SOURCES})
target_include_directories(vam-xen.elf PRIVATE
  ${CMAKE_SOURCE_DIR}/include
  ${CMAKE_SOURCE_DIR}/vam/include
  ${CMAKE_SOURCE_DIR}/vam/cpu/include
  ${CMAKE_SOURCE_DIR}/vam/emul/include
  ${CMAKE_SOURCE_DIR}/devmodels/include)
# memcpy/memset must not become calls to themselves; the walker and
# the device models are built the same way in their own libraries.
target_compile_options(vam-xen.elf PRIVATE -fno-tree-loop-distribute-patterns)
