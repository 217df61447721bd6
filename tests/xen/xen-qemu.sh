# shellcheck shell=bash
# Boots Xen 4.17 (Debian's xen-hypervisor-4.17-amd64) under QEMU (TCG) and
# watches the serial log until Xen is done.  Sourced by tests/xen/run-xen.sh
# and tests/guests/run-guest.sh; safe under `set -euo pipefail`.
#
#   xq_xen_image DIR             unpack $XEN_GZ into DIR once (QEMU's multiboot
#                                loader takes only the uncompressed image); sets XQ_XEN
#   xq_module FILE [ARGS]        one -initrd entry (prints it): commas doubled
#                                (QEMU's escape), FILE must not contain a space
#   xq_command LOG XEN_ARGS INITRD [QEMU_ARG...]
#                                sets XQ_CMD, the QEMU command (array): the
#                                machine of verified-facts.md, serial to LOG,
#                                Xen's options after "console=com1 com1=115200,8n1
#                                dom0_mem=128M console_timestamps=boot"; then
#                                the words of $XQ_QEMU_ARGS, then QEMU_ARG...
#   xq_boot LOG TIMEOUT          run XQ_CMD, watch LOG, stop QEMU; results in XQ_*
#   xq_ending LOG                the first line of LOG that ends Xen's run
#                                (see XQ_END_RE), CR stripped; empty if none
#   xq_reason LINE               that line as a word: poweroff reboot crash
#                                watchdog soft_reset unknown xen_panic
#
# Why a watcher: with QEMU's -no-reboot a dom0 reboot (SCHEDOP_shutdown
# reason reboot) makes QEMU exit, but Xen answers a dom0 poweroff with
# machine_halt() ("Hardware Dom0 halted: halting machine") and QEMU keeps
# running, and a dom0 crash or a Xen panic halts too when Xen has `noreboot`
# (else it resets after 5 s).  xq_boot runs QEMU in the background, polls the
# log for one of those lines, waits until the log has been quiet for
# XQ_GRACE_US (so it is complete) and then stops QEMU.
#
# After xq_boot:
#   XQ_END     exited (QEMU exited by itself), stopped (by the watcher after
#              Xen's ending line) or timeout
#   XQ_RC      QEMU's exit status when XQ_END is exited, else empty
#   XQ_ENDLINE Xen's ending line ("(XEN) [ uptime] Hardware Dom0 ..."), or
#              when QEMU exited after Xen's ACPI S5 line, that line; or empty
#   XQ_REASON  xq_reason of it, or empty
#   XQ_SECS    wall-clock seconds from QEMU's start to its end
#   XQ_MARK_SECS  when XQ_MARK_RE is set: seconds from QEMU's start until the
#              log first had a line matching it (0.1 s resolution; the total
#              if it showed up only at the end), else empty

XEN_GZ=${XEN_GZ:-/boot/xen-4.17-amd64.gz}
XQ_QEMU=${XQ_QEMU:-qemu-system-x86_64}
XQ_GRACE_US=${XQ_GRACE_US:-300000}     # log quiet this long after the ending line
XQ_GRACE_MAX_US=5000000                # stop at most this long after it anyway
XQ_MARK_RE=${XQ_MARK_RE:-}
# Extra QEMU arguments for every boot, split at blanks (no quoting), e.g.
# XQ_QEMU_ARGS="-icount shift=1,sleep=off" (scripts/bench-guest.sh).
XQ_QEMU_ARGS=${XQ_QEMU_ARGS:-}

# Lines of Xen 4.17 that end its run (xen/common/shutdown.c hwdom_shutdown()
# and xen/drivers/char/console.c panic()); Xen prefixes its lines with
# "(XEN) " and, with console_timestamps, "[uptime] ".  Not anchored at the
# line start: a dom0 line without its newline may precede Xen's text.
XQ_END_RE='\(XEN\) .*(Hardware Dom[0-9]+ (halted: halting machine|shutdown: rebooting machine|crashed: |shutdown: watchdog rebooting machine|shutdown \(unknown reason [0-9]+\))|Hardware domain [0-9]+ did unsupported soft reset|Panic on CPU [0-9]+:)'

# Xen's line when a dom0 puts the machine into ACPI S5 (xen/arch/x86/acpi/power.c).
XQ_S5_RE='\(XEN\) .*Entering ACPI S5 state'

xq_err() { echo "${XQ_PROG:-xen-qemu}: $*" >&2; }

xq_xen_image() {
  local dir=$1 tmp
  [ -f "$XEN_GZ" ] || {
    xq_err "$XEN_GZ missing: install xen-hypervisor-4.17-amd64 (scripts/setup-deps.sh)"; return 1; }
  XQ_XEN=$dir/xen-4.17-amd64
  [ "$XQ_XEN" -nt "$XEN_GZ" ] && return 0
  # parallel boots (ctest -j) may unpack at the same time: rename into place
  tmp=$XQ_XEN.tmp.$$
  if zcat "$XEN_GZ" > "$tmp" && mv -f "$tmp" "$XQ_XEN"; then return 0; fi
  rm -f "$tmp"
  xq_err "cannot unpack $XEN_GZ into $dir"
  return 1
}

xq_module() {
  local file=$1 args=${2:-}
  case $file in *' '*) xq_err "module path must not contain a space: $file"; return 1 ;; esac
  [ -f "$file" ] || { xq_err "no such module: $file"; return 1; }
  local s="$file${args:+ $args}"
  printf '%s' "${s//,/,,}"
}

xq_ending() {
  tr -d '\r' < "$1" | grep -a -m1 -E -- "$XQ_END_RE" || true
}

xq_reason() {
  case $1 in
    *"halted: halting machine"*)       echo poweroff ;;
    *"shutdown: watchdog rebooting"*)  echo watchdog ;;
    *"shutdown: rebooting machine"*)   echo reboot ;;
    *"crashed: "*)                     echo crash ;;
    *"unknown reason"*)                echo unknown ;;
    *"unsupported soft reset"*)        echo soft_reset ;;
    *"Panic on CPU"*)                  echo xen_panic ;;
    *"Entering ACPI S5 state"*)        echo poweroff ;;
    *)                                 echo "" ;;
  esac
}

xq_secs() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000000 }'; }

_xq_pid=""
_xq_kill() {
  [ -n "$_xq_pid" ] || return 0
  kill -TERM "$_xq_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$_xq_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$_xq_pid" 2>/dev/null || true
}

xq_command() {
  local log=$1 xen_args=$2 initrd=$3 extra=()
  shift 3
  [ -z "$XQ_QEMU_ARGS" ] || read -r -a extra <<< "$XQ_QEMU_ARGS"
  XQ_CMD=("$XQ_QEMU" -accel tcg -cpu max,-smap,-smep -m 512 -display none
          -no-reboot -monitor none -serial "file:$log" -kernel "$XQ_XEN"
          -append "console=com1 com1=115200,8n1 dom0_mem=128M console_timestamps=boot${xen_args:+ $xen_args}"
          -initrd "$initrd" "${extra[@]}" "$@")
}

xq_boot() {
  local log=$1 timeout_s=$2
  XQ_END="" XQ_RC="" XQ_ENDLINE="" XQ_REASON="" XQ_SECS="" XQ_MARK_SECS=""
  rm -f "$log"
  : > "$log"

  local t0 now end_at="" quiet_at=0 size last_size=-1 rc=0
  t0=${EPOCHREALTIME/./}
  "${XQ_CMD[@]}" < /dev/null &
  _xq_pid=$!
  trap '_xq_kill; exit 130' INT
  trap '_xq_kill; exit 143' TERM
  trap '_xq_kill' EXIT
  while kill -0 "$_xq_pid" 2>/dev/null; do
    now=${EPOCHREALTIME/./}
    if [ -n "$XQ_MARK_RE" ] && [ -z "$XQ_MARK_SECS" ] && grep -aqE -- "$XQ_MARK_RE" "$log"; then
      XQ_MARK_SECS=$(xq_secs $((now - t0)))
    fi
    if [ -z "$end_at" ]; then
      XQ_ENDLINE=$(xq_ending "$log")
      [ -z "$XQ_ENDLINE" ] || end_at=$now
    fi
    if [ -n "$end_at" ]; then
      size=$(stat -c %s "$log")
      if [ "$size" != "$last_size" ]; then
        last_size=$size quiet_at=$now
      elif ((now - quiet_at >= XQ_GRACE_US || now - end_at >= XQ_GRACE_MAX_US)); then
        XQ_END=stopped
        break
      fi
    fi
    if ((now - t0 >= timeout_s * 1000000)); then
      XQ_END=timeout
      break
    fi
    sleep 0.1
  done
  if [ -n "$XQ_END" ]; then
    _xq_kill
    wait "$_xq_pid" 2>/dev/null || true
  else
    XQ_END=exited
    wait "$_xq_pid" || rc=$?
    XQ_RC=$rc
  fi
  now=${EPOCHREALTIME/./}
  _xq_pid=""
  trap - INT TERM EXIT
  XQ_SECS=$(xq_secs $((now - t0)))
  [ -n "$XQ_ENDLINE" ] || XQ_ENDLINE=$(xq_ending "$log")
  # A dom0 that drives ACPI (a Linux PV dom0 with CONFIG_ACPI) powers off
  # through Xen's ACPI S5 entry: the machine goes off and QEMU exits, with
  # none of the lines above.
  if [ -z "$XQ_ENDLINE" ] && [ "$XQ_END" = exited ]; then
    XQ_ENDLINE=$(tr -d '\r' < "$log" | grep -a -m1 -E -- "$XQ_S5_RE" || true)
  fi
  XQ_REASON=$(xq_reason "$XQ_ENDLINE")
  if [ -n "$XQ_MARK_RE" ] && [ -z "$XQ_MARK_SECS" ] && grep -aqE -- "$XQ_MARK_RE" "$log"; then
    XQ_MARK_SECS=$XQ_SECS
  fi
  return 0
}
