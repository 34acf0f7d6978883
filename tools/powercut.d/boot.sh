#!/usr/bin/env bash
# tools/powercut.d/boot.sh — one boot of tools/powercut, run in the rig's guest
# by tools/vmtest with VIGIE_VMTEST_DISK (the state disk at $VIGIE_RIG_DISK).
#
#   boot.sh VIGIED raise INTERVAL_MS [OUTAGE_S]
#                                      recover what the last power cut left, then
#                                      raise test events until the power is cut;
#                                      OUTAGE_S seconds after starting to raise, freeze
#                                      the broker (SIGSTOP), so events pile up unacknowledged
#   boot.sh VIGIED recover             only recover (the last boot of a run)
#
# Recovering: SQLite's integrity check on the outbox as the cut left it (read
# only, before vigied opens it), then a broker on loopback, a subscriber, and
# vigied without new events until no test event is left in the outbox.
#
# On stdout, one line each, for tools/powercut to read:
#   integrity <answer>        PRAGMA integrity_check, lines joined by "; " ("none": no outbox yet)
#   stored <payload>          a test event in the outbox as found at this boot
#   delivered <payload>       a test event as the subscriber got it (QoS 1)
#   drained <seconds>         no test event left in the outbox
#   raising                   vigied starts raising (tools/powercut's clock for the cut)
#   raised n=<N> id=<ID>      vigied, once the raise of a test event has returned
#   outage                    the broker has just been frozen
# Diagnostics (vigied's log among them) go to stderr.
set -euo pipefail

# Stamped with the guest's uptime, read by a builtin.
log() { local up _; read -r up _ < /proc/uptime; printf '[powercut-guest] %s %s\n' "$up" "$*" >&2; }
die() { printf '[powercut-guest] error: %s\n' "$*" >&2; exit 1; }

(($# >= 2)) || die "usage: boot.sh VIGIED raise INTERVAL_MS | boot.sh VIGIED recover"
VIGIED=$1 MODE=$2 INTERVAL=${3:-} OUTAGE=${4:-}
case $MODE in
  raise)
    [[ $INTERVAL =~ ^[0-9]+$ ]] || die "raise needs INTERVAL_MS"
    [[ -z $OUTAGE || $OUTAGE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "OUTAGE_S: expected seconds, not '$OUTAGE'"
    ;;
  recover) ;;
  *) die "unknown mode '$MODE'" ;;
esac
[[ -x $VIGIED ]] || die "no vigied at $VIGIED"
[[ -n ${VIGIE_RIG_DISK:-} ]] || die "no state disk (VIGIE_RIG_DISK): run through tools/vmtest with VIGIE_VMTEST_DISK"
# The point is the filesystem's default durability; refuse anything else.
mapfile -t options < /proc/fs/ext4/vda/options
[[ " ${options[*]} " == *" data=ordered "* && " ${options[*]} " == *" barrier "* ]] \
  || die "the state disk is not ext4 with data=ordered and barriers: ${options[*]}"

DEVICE=powercut
PORT=1883
TOPIC=vigie/v1/$DEVICE/event/test
STATE=$VIGIE_RIG_DISK/state
DB=$STATE/outbox.sqlite
W=/tmp/powercut
DRAIN_TIMEOUT=90
mkdir -p "$W"
log "started ($MODE)"

# (Every program started costs a fraction of a second in the emulated guest:
# files are written with builtins, and the broker starts while the outbox is
# checked.)
printf '%s\n' "listener $PORT 127.0.0.1" "allow_anonymous true" "persistence false" "user root" > "$W/mosquitto.conf"
mosquitto -c "$W/mosquitto.conf" > "$W/mosquitto.log" 2>&1 &
broker=$!

# What the cut left, before anything opens the database for writing.
if [[ -f $DB ]]; then
  found=$(sqlite3 -readonly "$DB" \
    "SELECT 'integrity ' || group_concat(integrity_check, '; ') FROM pragma_integrity_check;
     SELECT 'stored ' || CAST(payload AS TEXT) FROM outbox WHERE topic = '$TOPIC' ORDER BY id;" 2>&1) \
    || { [[ $found == integrity\ * ]] || echo "integrity ${found//$'\n'/; }"; die "cannot read the outbox: $found"; }
  printf '%s\n' "$found"
else
  echo "integrity none"
fi

# A still, grey camera at 2 frames/s: the daemon runs as in the field at
# almost no cost to the emulated CPU, and raises no motion of its own.
{
  printf 'YUV4MPEG2 W320 H240 F2:1 Ip A1:1 C420jpeg\nFRAME\n'
  head -c $((320 * 240 * 3 / 2)) /dev/zero | tr '\0' '\200'
} > "$W/still.y4m"
printf '%s\n' > "$W/vigie.toml" \
  '[device]' "id = \"$DEVICE\"" 'role = "pole"' \
  '[source]' 'uri = "y4m:still.y4m"' 'loop = true' \
  '[[mask]]' 'name = "window"' 'points = [[0.05, 0.05], [0.4, 0.05], [0.4, 0.45], [0.05, 0.45]]' \
  '[storage]' "state_dir = \"$STATE\"" \
  '[uplink]' "brokers = [\"mqtt://127.0.0.1:$PORT\"]" 'telemetry_interval = 3600' 'keepalive = 5'

for ((i = 0; i < 100; i++)); do
  (: <"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.2
done
((i < 100)) || { cat "$W/mosquitto.log" >&2; die "mosquitto did not listen on $PORT"; }

# The centre: every test event straight to the rig's stdout (a serial port
# the host keeps even when the power is cut), and to a file for the probe: a
# retained message on the topic, which comes back once the subscription holds.
mosquitto_pub -h 127.0.0.1 -p "$PORT" -q 1 -r -t "$TOPIC" -m '{"probe":true}' || die "cannot publish the probe"
mosquitto_sub -h 127.0.0.1 -p "$PORT" -q 1 -i powercut-centre -t "$TOPIC" -F 'delivered %p' \
  | tee "$W/delivered" &
for ((i = 0; i < 200; i++)); do
  grep -q probe "$W/delivered" && break
  sleep 0.1
done
((i < 200)) || die "the subscriber never got its probe"
log "broker and subscriber ready"

# Recover: vigied alone, until every test event the cut left is acknowledged.
pending() { sqlite3 -readonly "$DB" "SELECT count(*) FROM outbox WHERE topic = '$TOPIC'" 2>/dev/null || echo unknown; }
start=$SECONDS
if [[ -f $DB && $(pending) != 0 ]]; then
  "$VIGIED" --config "$W/vigie.toml" &
  vigied=$!
  until [[ $(pending) == 0 ]]; do
    kill -0 "$vigied" 2>/dev/null || die "vigied exited while delivering what the cut left"
    ((SECONDS - start < DRAIN_TIMEOUT)) || die "the outbox still holds $(pending) test events after ${DRAIN_TIMEOUT} s"
    sleep 0.3
  done
  kill -TERM "$vigied"
  wait "$vigied" || log "vigied (recovering) exited with status $?"
fi
# What the broker sent on just before the last acknowledgement, through the pipe.
sleep 0.3
echo "drained $((SECONDS - start))"

log "drained"
if [[ $MODE = raise ]]; then
  echo raising
  [[ -n $OUTAGE ]] || exec "$VIGIED" --config "$W/vigie.toml" --test-events 1000000 --test-event-interval "$INTERVAL"
  "$VIGIED" --config "$W/vigie.toml" --test-events 1000000 --test-event-interval "$INTERVAL" &
  vigied=$!
  sleep "$OUTAGE"
  kill -STOP "$broker"
  echo outage
  log "broker frozen"
  wait "$vigied"
fi
