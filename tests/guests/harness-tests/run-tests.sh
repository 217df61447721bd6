#!/usr/bin/env bash
# ctest guest.harness.parse: run-guest.sh --parse-log on the fabricated logs
# of cases.txt, each as stored (LF), with CR LF and with CR CR LF line ends;
# checks the exit status, the verdict and the Xen shutdown reason reported.
# usage: run-tests.sh RUN-GUEST.SH WORKDIR
set -uo pipefail
run=$1 work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$work"
fails=0 n=0
while read -r file platform status verdict reason; do
  case $file in ''|'#'*) continue ;; esac
  for ends in lf crlf crcrlf; do
    log=$work/${file%.log}.$platform.$ends.log
    case $ends in
      lf)     cp "$here/$file" "$log" ;;
      crlf)   sed 's/$/\r/' "$here/$file" > "$log" ;;
      crcrlf) sed 's/$/\r\r/' "$here/$file" > "$log" ;;
    esac
    n=$((n + 1))
    out=$(bash "$run" --platform "$platform" --parse-log "$log" 2>&1)
    rc=$?
    summary=$(printf '%s\n' "$out" | tail -n 1)
    why=""
    [ "$rc" = "$status" ] || why="exit status $rc, expected $status"
    case $summary in
      *": $verdict ("*|*": $verdict: "*) ;;
      *) why="${why:+$why; }verdict is not $verdict" ;;
    esac
    if [ "$platform" = xen ]; then
      if [ "$reason" = - ]; then
        case $summary in *"Xen: "*) why="${why:+$why; }reports a Xen reason, expected none" ;; esac
      else
        case $summary in *"Xen: $reason, "*) ;; *) why="${why:+$why; }Xen reason is not $reason" ;; esac
      fi
    fi
    if [ -n "$why" ]; then
      echo "FAIL $file ($platform, $ends): $why"
      printf '%s\n' "$out" | sed 's/^/    /'
      fails=$((fails + 1))
    else
      echo "ok   $file ($platform, $ends): $summary"
    fi
  done
done < "$here/cases.txt"
echo "$((n - fails)) of $n passed"
[ "$fails" -eq 0 ]
