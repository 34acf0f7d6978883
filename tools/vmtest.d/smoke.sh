#!/usr/bin/env bash
# The rig's own smoke check, run inside the guest by `tools/vmtest --smoke`.
# Each `check NAME COMMAND...` line is one check: it prints PASS or FAIL with
# what it found; the script exits non-zero if any check failed. To add a
# check, add one line at the bottom (a shell function if it needs several
# commands). Nothing is ever skipped: a missing device is a FAIL.
set -uo pipefail

passed=0 failed=0
check() {
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); printf 'PASS  %-22s %s\n' "$name" "${out//$'\n'/; }"
  else
    failed=$((failed + 1)); printf 'FAIL  %-22s %s\n' "$name" "${out//$'\n'/; }"
  fi
}

in_rig() {
  [[ ${VIGIE_RIG:-} = 1 ]] || { echo "VIGIE_RIG is not 1: not in the rig?"; return 1; }
  echo "kernel $(uname -r), $(nproc) CPUs, cwd $PWD"
}

v4l2_device() {
  local n name dev found=0
  for n in /sys/class/video4linux/video*; do
    [[ -e $n ]] || continue
    name=$(<"$n/name"); dev=/dev/${n##*/}
    [[ -c $dev ]] || { echo "$dev is not a character device"; return 1; }
    if [[ $name == vivid* ]]; then
      # Opening it reaches the driver (vivid's open), not just the node.
      exec 3<>"$dev" || { echo "cannot open $dev"; return 1; }
      exec 3>&-
      echo "$dev: $name (driver $(basename "$(readlink -f "$n/device/driver")"))"
      found=1
    fi
  done
  ((found)) || { echo "no vivid device in /sys/class/video4linux"; return 1; }
}

# Both v4l2loopback nodes, at the numbers and with the card names the tests
# are told about, driven by v4l2loopback, and opening.
v4l2_loopback() {
  local dev want n name
  for want in "${VIGIE_RIG_LOOPBACK:-}:Vigie Loopback A" "${VIGIE_RIG_LOOPBACK2:-}:Vigie Loopback B"; do
    dev=${want%%:*}
    [[ -n $dev ]] || { echo "VIGIE_RIG_LOOPBACK or VIGIE_RIG_LOOPBACK2 is not set"; return 1; }
    [[ -c $dev ]] || { echo "$dev is missing (v4l2loopback not loaded?)"; return 1; }
    n=/sys/class/video4linux/${dev##*/}
    name=$(<"$n/name")
    [[ $name == "${want#*:}" ]] || { echo "$dev is '$name', want '${want#*:}'"; return 1; }
    [[ -d /sys/module/v4l2loopback ]] || { echo "module v4l2loopback is not loaded"; return 1; }
    exec 3<>"$dev" || { echo "cannot open $dev"; return 1; }
    exec 3>&-
    printf '%s: %s; ' "$dev" "$name"
  done
  echo "exclusive_caps=$(</sys/module/v4l2loopback/parameters/exclusive_caps)"
}

# The whole feed path, cheaply: play the prepared MJPEG recording into the
# second loopback device and read one frame back from its capture side.
loopback_feed() {
  local dev=${VIGIE_RIG_LOOPBACK2:-} err jpg feed pid line fmt head tail size
  [[ -c $dev && -x ${VIGIE_RIG_FEED:-} ]] || { echo "no loopback device or no \$VIGIE_RIG_FEED"; return 1; }
  err=$(mktemp) jpg=$(mktemp)
  exec {feed}< <(exec "$VIGIE_RIG_FEED" --device "$dev" --format mjpeg --size 640x480 --fps 15 2>"$err")
  pid=$!
  if ! read -t 30 -r line <&"$feed" || [[ $line != ready* ]]; then
    kill "$pid" 2>/dev/null
    echo "feed-loopback did not get ready: $(<"$err")"; rm -f "$err" "$jpg"; return 1
  fi
  fmt=$(<"/sys/class/video4linux/${dev##*/}/format")
  # read() on the capture side returns one whole frame.
  timeout 10 dd if="$dev" of="$jpg" bs=4M count=1 status=none
  kill "$pid"; exec {feed}<&-
  head=$(od -An -tx1 -N2 "$jpg" | tr -d ' ')
  tail=$(tail -c 2 "$jpg" | od -An -tx1 | tr -d ' ')
  size=$(stat -c %s "$jpg")
  rm -f "$err" "$jpg"
  [[ $fmt == MJPG:640x480@15 ]] || { echo "capture side reports '$fmt', want MJPG:640x480@15"; return 1; }
  [[ $head == ffd8 && $tail == ffd9 ]] || { echo "read back $size bytes that are not a JPEG ($head...$tail)"; return 1; }
  echo "$dev: $fmt, read back a $size-byte JPEG"
}

alsa_loopback() {
  local card
  card=$(awk '/\[Loopback *\]/ {print $1; exit}' /proc/asound/cards)
  [[ -n $card ]] || { echo "no Loopback card in /proc/asound/cards"; return 1; }
  local pcm=/dev/snd/pcmC${card}D0p
  [[ -c $pcm ]] || { echo "card $card but no $pcm"; return 1; }
  exec 3<>"$pcm" || { echo "cannot open $pcm"; return 1; }
  exec 3>&-
  echo "card $card: $(sed -n "s/^ *$card \[Loopback *\]: //p" /proc/asound/cards); $pcm opens"
}

gpio_chip() {
  local chip=${VIGIE_RIG_GPIOCHIP:-} sys=${VIGIE_RIG_GPIO_SYSFS:-} label lines
  [[ -n $chip && -c $chip ]] || { echo "no gpio-sim chip device (VIGIE_RIG_GPIOCHIP='$chip')"; return 1; }
  exec 3<>"$chip" || { echo "cannot open $chip"; return 1; }
  exec 3>&-
  # The chip's label and line count, from the legacy sysfs class device
  # (/sys/devices/platform/gpio-sim.N/gpio/gpiochipBASE).
  label=$(cat "${sys%/*}"/gpio/gpiochip*/label 2>/dev/null)
  lines=$(cat "${sys%/*}"/gpio/gpiochip*/ngpio 2>/dev/null)
  [[ $label == vigie-sim ]] || { echo "$chip has label '$label', want vigie-sim"; return 1; }
  echo "$chip: label $label, $lines lines"
}

gpio_line_pull() {
  local line=${VIGIE_RIG_GPIO_SYSFS:-}/sim_gpio3 v
  [[ -e $line/pull ]] || { echo "no $line/pull"; return 1; }
  echo pull-up > "$line/pull" || return 1
  v=$(<"$line/value"); [[ $v = 1 ]] || { echo "pull-up gave value $v"; return 1; }
  echo pull-down > "$line/pull" || return 1
  v=$(<"$line/value"); [[ $v = 0 ]] || { echo "pull-down gave value $v"; return 1; }
  echo "line 3: pull-up -> 1, pull-down -> 0"
}

check "rig"            in_rig
check "v4l2 (vivid)"   v4l2_device
check "v4l2 (loopback)" v4l2_loopback
check "loopback feed"  loopback_feed
check "alsa (aloop)"   alsa_loopback
check "gpio (gpio-sim)" gpio_chip
check "gpio line pull" gpio_line_pull

echo "smoke: $passed passed, $failed failed"
((failed == 0))
