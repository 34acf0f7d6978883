#ifndef VIGIE_CV4L2_SHIM_H
#define VIGIE_CV4L2_SHIM_H
// libv4l2 / libv4lconvert (Debian 12: libv4l-dev) over the kernel's V4L2 API.
#include <fcntl.h>
#include <sys/mman.h>
#include <linux/videodev2.h>
#include <libv4l2.h>

// The VIDIOC_* request codes are function-like macros (_IOWR…): Swift cannot import them.
static const unsigned long cv4l2_querycap = VIDIOC_QUERYCAP;
static const unsigned long cv4l2_enum_fmt = VIDIOC_ENUM_FMT;
static const unsigned long cv4l2_enum_framesizes = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long cv4l2_g_fmt = VIDIOC_G_FMT;
static const unsigned long cv4l2_s_fmt = VIDIOC_S_FMT;
static const unsigned long cv4l2_g_parm = VIDIOC_G_PARM;
static const unsigned long cv4l2_s_parm = VIDIOC_S_PARM;
static const unsigned long cv4l2_reqbufs = VIDIOC_REQBUFS;
static const unsigned long cv4l2_querybuf = VIDIOC_QUERYBUF;
static const unsigned long cv4l2_qbuf = VIDIOC_QBUF;
static const unsigned long cv4l2_dqbuf = VIDIOC_DQBUF;
static const unsigned long cv4l2_streamon = VIDIOC_STREAMON;
static const unsigned long cv4l2_streamoff = VIDIOC_STREAMOFF;
static const unsigned long cv4l2_queryctrl = VIDIOC_QUERYCTRL;
static const unsigned long cv4l2_g_ctrl = VIDIOC_G_CTRL;
static const unsigned long cv4l2_s_ctrl = VIDIOC_S_CTRL;

// Pixel formats (v4l2_fourcc is a macro too).
static const unsigned int cv4l2_pix_yuyv = V4L2_PIX_FMT_YUYV;
static const unsigned int cv4l2_pix_nv12 = V4L2_PIX_FMT_NV12;
static const unsigned int cv4l2_pix_grey = V4L2_PIX_FMT_GREY;
static const unsigned int cv4l2_pix_yuv420 = V4L2_PIX_FMT_YUV420;
static const unsigned int cv4l2_pix_mjpeg = V4L2_PIX_FMT_MJPEG;
static const unsigned int cv4l2_ctrl_flag_next = V4L2_CTRL_FLAG_NEXT_CTRL;

// v4l2_open and v4l2_ioctl are variadic: Swift cannot call them.
static inline int cv4l2_open(const char *path, int flags) { return v4l2_open(path, flags); }
static inline int cv4l2_ioctl(int fd, unsigned long request, void *argument) {
    return v4l2_ioctl(fd, request, argument);
}
#endif
