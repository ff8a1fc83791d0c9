#!/bin/sh
# Guest step (installed as /bin/v4l2ctl-smoke): v4l2-ctl streams 10 frames of 640x480
# YUYV at 25 fps with MMAP buffers from vivid (its default rate at that size is 5 fps)
# and checks the byte count. Prints V4L2CTL-PASS or V4L2CTL-FAIL.
set -e
v4l2-ctl --list-devices
v4l2-ctl -d /dev/video0 --set-fmt-video=width=640,height=480,pixelformat=YUYV --set-parm=25
v4l2-ctl -d /dev/video0 --stream-mmap=4 --stream-count=10 --stream-to=/tmp/f.raw
n=$(wc -c < /tmp/f.raw)
rm -f /tmp/f.raw
expect=$((640 * 480 * 2 * 10))
echo "V4L2CTL: 10 frames, $n bytes (expect $expect)"
if [ "$n" -eq "$expect" ]; then
    echo V4L2CTL-PASS
else
    echo V4L2CTL-FAIL
    exit 1
fi
