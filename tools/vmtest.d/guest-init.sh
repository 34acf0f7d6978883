# Stage 2 of the vmtest guest: PID 1, busybox sh, still in the initramfs.
# /lower = host root (9p, read-only), /share = this run's writable 9p share.
# Builds the writable root, mounts the state disk if there is one, loads the
# drivers (vivid, two v4l2loopback devices, snd-aloop, gpio-sim) and creates
# the GPIO simulator unless told not to,
# runs the command chrooted, writes its status to /share/status, powers off.
# A failure of the rig itself goes to /share/rig-error (the host prints it
# with the kernel log) and no status is written.
# shellcheck source=/dev/null
. /share/rig.env

log() { echo "$*" >> /share/rig.log; if [ "$RIG_VERBOSE" = 1 ]; then echo "vigie-rig: $*" > /dev/ttyS2; fi; }
fail() {
  echo "$*" > /share/rig-error
  dmesg > /share/dmesg.txt 2>/dev/null
  sync; poweroff -f
  sleep 10
}
run() { log "$*"; "$@" >> /share/rig.log 2>&1 || fail "'$*' failed"; }

# Modules come from the cache's unpacked kernel; also lets the kernel's own
# request_module (busybox modprobe here) find them.
run mount --bind "/lower$RIG_MODROOT/lib/modules" /lib/modules

# Writable root: host root + tmpfs upper layer.
run modprobe overlay
run mount -t tmpfs -o mode=0755 tmpfs /ovl
mkdir -p /ovl/upper /ovl/work
run mount -t overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work overlay /newroot
R=/newroot
for d in dev proc sys tmp run lib/modules; do mkdir -p "$R/$d"; done
run mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
run mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd $R/dev/fd
ln -s /proc/self/fd/0 $R/dev/stdin
ln -s /proc/self/fd/1 $R/dev/stdout
ln -s /proc/self/fd/2 $R/dev/stderr
run mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
run mount -t proc proc $R/proc
run mount -t sysfs sysfs $R/sys
# /tmp and /run start empty, unless the command runs from under them (then
# it sees the host's copy, writable through the overlay).
case "$RIG_CWD/" in /tmp/*) ;; *) run mount -t tmpfs -o mode=1777 tmpfs $R/tmp ;; esac
case "$RIG_CWD/" in /run/*) ;; *) run mount -t tmpfs -o mode=0755 tmpfs $R/run ;; esac
run mount --bind /lib/modules $R/lib/modules
mkdir -p $R/run/vigie
run mount --bind /share $R/run/vigie
# No network, but a loopback interface: a broker on 127.0.0.1 for the command.
run ip link set lo up

# The state disk (VIGIE_VMTEST_DISK), if any: ext4 with its default options
# (data=ordered, barriers on), so what the command fsyncs reaches the virtual
# disk as a flush. After a power cut, mounting it replays ext4's journal.
if [ -n "$RIG_DISK_DIR" ]; then
  run modprobe virtio_blk
  # ext4 asks the crypto API for crc32c at mount time; busybox's modprobe
  # does not resolve that alias, so load it by name first.
  run modprobe crc32c_generic
  run modprobe ext4
  for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
  [ "$(cat /sys/block/vda/serial 2>/dev/null)" = vigie-state ] || fail "state disk: no /dev/vda with serial vigie-state"
  mkdir -p "$R$RIG_DISK_DIR"
  run mount -t ext4 /dev/vda "$R$RIG_DISK_DIR"
fi

# The drivers under test (all of them unless VIGIE_VMTEST_DRIVERS=0).
: > /share/devices.env
if [ "$RIG_DRIVERS" != 0 ]; then
  run modprobe vivid n_devs=1 node_types=0x1
  # Two loopback cameras at fixed nodes, clear of vivid's (which start at 0).
  # exclusive_caps: a capture device only while a writer feeds it, as real
  # cameras and browsers expect; 8 buffers so a ring of four fits. The host's
  # kmod modprobe, because busybox's splits quoted values at their spaces.
  run chroot $R /sbin/modprobe v4l2loopback devices=2 video_nr=20,21 exclusive_caps=1,1 max_buffers=8 \
    'card_label="Vigie Loopback A,Vigie Loopback B"'
  run modprobe snd-aloop
  run modprobe configfs
  run mount -t configfs configfs $R/sys/kernel/config
  mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null || true
  run modprobe gpio-sim
  # One simulated chip, 8 lines, label "vigie-sim"; lines 0 to 3 named.
  G=$R/sys/kernel/config/gpio-sim/vigie
  run mkdir $G
  run mkdir $G/bank0
  echo 8 > $G/bank0/num_lines || fail "gpio-sim: num_lines"
  echo vigie-sim > $G/bank0/label || fail "gpio-sim: label"
  # Names for the first lines, as a board's device tree gives them (GPIO17…): tests find lines by name.
  for n in 0:vigie-button 1:vigie-tamper 2:vigie-led-call 3:vigie-led-fault; do
    run mkdir "$G/bank0/line${n%%:*}"
    echo "${n#*:}" > "$G/bank0/line${n%%:*}/name" || fail "gpio-sim: name of line ${n%%:*}"
  done
  echo 1 > $G/live || fail "gpio-sim: live"
  GPIO_DEV=$(cat $G/dev_name) || fail "gpio-sim: no device"
  GPIO_CHIP=$(cat $G/bank0/chip_name) || fail "gpio-sim: no chip"
  VIDEO=
  for n in /sys/class/video4linux/video*; do
    case "$(cat "$n/name" 2>/dev/null)" in vivid*) VIDEO=/dev/${n##*/}; break ;; esac
  done
  [ -n "$VIDEO" ] || fail "vivid loaded but no vivid /dev/video*"
  for n in 20:"Vigie Loopback A" 21:"Vigie Loopback B"; do
    [ "$(cat /sys/class/video4linux/video${n%%:*}/name 2>/dev/null)" = "${n#*:}" ] \
      || fail "v4l2loopback loaded but no /dev/video${n%%:*} named '${n#*:}'"
  done
  grep -q Loopback /proc/asound/cards || fail "snd-aloop loaded but no Loopback card"
  log "devices: $VIDEO, /dev/video20, /dev/video21, Loopback, /dev/$GPIO_CHIP ($GPIO_DEV)"
  {
    echo "export VIGIE_RIG_VIDEO=$VIDEO"
    echo "export VIGIE_RIG_LOOPBACK=/dev/video20"
    echo "export VIGIE_RIG_LOOPBACK2=/dev/video21"
    echo "export VIGIE_RIG_ALSA_CARD=Loopback"
    echo "export VIGIE_RIG_GPIOCHIP=/dev/$GPIO_CHIP"
    echo "export VIGIE_RIG_GPIO_SYSFS=/sys/devices/platform/$GPIO_DEV/$GPIO_CHIP"
  } >> /share/devices.env
fi
if [ -n "$RIG_DISK_DIR" ]; then echo "export VIGIE_RIG_DISK=$RIG_DISK_DIR" >> /share/devices.env; fi

# Raw serial ports: bytes through unchanged (no \n -> \r\n).
stty -F /dev/ttyS1 raw -echo 115200 || fail "stty ttyS1"
stty -F /dev/ttyS2 raw -echo 115200 || fail "stty ttyS2"

log "running the command"
dmesg > /share/dmesg.txt 2>/dev/null
before=$(wc -l < /share/dmesg.txt)
# The host's clock for VIGIE_VMTEST_KILL_AFTER starts here.
: > /share/started
chroot $R /usr/bin/env -i /bin/bash -c '. /run/vigie/devices.env; . /run/vigie/cmd.sh' \
  < /dev/null > /dev/ttyS1 2> /dev/ttyS2
echo $? > /share/status
log "command exited $(cat /share/status)"
dmesg > /share/dmesg.txt 2>/dev/null
# What the kernel said while the command ran (the host shows it if the
# command failed: a driver warning is often the reason).
tail -n +$((before + 1)) /share/dmesg.txt > /share/dmesg-during.txt
sync
# Unmounted cleanly when it can be (something the command left running may
# still hold it; poweroff -f then ends that, after the sync above).
if [ -n "$RIG_DISK_DIR" ]; then umount "$R$RIG_DISK_DIR" 2>/dev/null || log "state disk busy at power-off"; fi
poweroff -f
