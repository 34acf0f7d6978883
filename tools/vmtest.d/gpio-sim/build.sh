#!/usr/bin/env bash
# build.sh SRC BUILD HEADERS — build gpio-sim.ko from the kernel's own
# gpio-sim.c, gpiolib.h and irq_sim.c (in SRC) against HEADERS, in BUILD.
set -euo pipefail
src=$1 build=$2 headers=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$build"; mkdir -p "$build"
cp "$here/Kbuild" "$build/Kbuild"
cp "$src/gpio-sim.c" "$build/gpio-sim-main.c"   # renamed: the module is gpio-sim.o
cp "$src/gpiolib.h" "$build/gpiolib.h"
# irq_to_desc() is not exported to modules; generic_handle_irq() is and does
# the same for a simple irq.
sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
  "$src/irq_sim.c" > "$build/irq_sim.c"
grep -q 'generic_handle_irq(irqnum)' "$build/irq_sim.c" \
  || { echo "gpio-sim: irq_sim.c patch did not apply" >&2; exit 1; }
make -C "$headers" M="$build" -j2 modules 2>&1 | tee "$build/make.log"
# modpost only warns about unresolved symbols; a module with one would not load.
if grep -q 'undefined!' "$build/make.log"; then echo "gpio-sim: unresolved symbols" >&2; exit 1; fi
test -f "$build/gpio-sim.ko"
