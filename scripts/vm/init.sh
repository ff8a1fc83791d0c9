#!/bin/sh
# /init (PID 1) of the throw-away VM that scripts/vm-capture-test.sh boots. Runs under
# busybox sh. Loads the vivid driver, runs each test step, prints one marker per step
# on the serial console and powers off:
#   VM-STEP-PASS <step> | VM-STEP-FAIL <step> rc=<n> | VM-STEP-SKIP <step>: <reason>
#   VM-TEST-PASS (every step that ran passed, at least one ran) | VM-TEST-FAIL: <why>
# The host script writes /etc/vm-modules (the modules to insmod, in load order),
# /etc/vm-step-timeout (seconds per step) and /etc/vm-skip/<step> (why a step is skipped).
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
export FRAMELINE_VM=1 RUST_BACKTRACE=1

uptime_s() { cut -d' ' -f1 /proc/uptime; }
finish() {
    sync
    poweroff -f
    sleep 10
}
fail() {
    echo "VM-TEST-FAIL: $*"
    finish
}

echo
echo "VM-INIT: kernel $(uname -r) $(uname -m), $(grep -c ^processor /proc/cpuinfo) cpus, uptime $(uptime_s)s"

while read -r m; do
    if [ "$m" = vivid.ko ]; then
        insmod "/lib/modules/$m" n_devs=1 || fail "insmod $m"
    else
        insmod "/lib/modules/$m" || fail "insmod $m"
    fi
done </etc/vm-modules
i=0
while [ ! -e /dev/video0 ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -e /dev/video0 ] || fail "/dev/video0 missing after loading vivid"
echo "VM-INIT: $(wc -l < /etc/vm-modules) modules loaded, /dev/video0 ready, uptime $(uptime_s)s"

step_timeout=$(cat /etc/vm-step-timeout 2>/dev/null || echo 120)
ran=0
failed=""
# step NAME COMMAND...: runs COMMAND (at most $step_timeout s) unless /etc/vm-skip/NAME exists.
step() {
    name=$1
    shift
    if [ -e "/etc/vm-skip/$name" ]; then
        echo "VM-STEP-SKIP $name: $(cat "/etc/vm-skip/$name")"
        return 0
    fi
    echo "VM-STEP-START $name: $* (uptime $(uptime_s)s)"
    timeout "$step_timeout" "$@"
    rc=$?
    ran=$((ran + 1))
    if [ $rc -eq 0 ]; then
        echo "VM-STEP-PASS $name (uptime $(uptime_s)s)"
    else
        echo "VM-STEP-FAIL $name rc=$rc (uptime $(uptime_s)s)"
        failed="$failed $name"
    fi
}

step v4l2ctl-smoke /bin/v4l2ctl-smoke
# The pipeline on the camera first: the last capture-vm test disconnects the device.
step frameline-inspect /usr/bin/frameline inspect --source v4l:/dev/video0 --size 640x480 \
    --fps 25 --frames 30 --warmup 5 --no-flat-field --threshold otsu --json /tmp/defects.jsonl
step capture-vm /usr/bin/capture-vm --ignored --nocapture --test-threads=1

if [ -n "$failed" ]; then
    echo "VM-TEST-FAIL: failed steps:$failed"
elif [ $ran -eq 0 ]; then
    echo "VM-TEST-FAIL: no step ran"
else
    echo "VM-TEST-PASS ($ran steps ran, uptime $(uptime_s)s)"
fi
finish
