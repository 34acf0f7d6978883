/*
 * loopback-write — feed a V4L2 output device (v4l2loopback) with frames at a
 * steady rate, as a camera would deliver them.
 *
 *   loopback-write --device DEV --format yuyv|mjpeg --size WxH --fps N
 *                  [--seconds N] FILE|-
 *
 * FILE holds the frames back to back: YUYV frames of exactly W*H*2 bytes, or
 * JPEG images (what `ffmpeg -f mjpeg` writes). A FILE is read into memory
 * (raw frames by a thread, while the first loop plays) and played in a loop,
 * so after the first loop nothing but the writes costs CPU; `-` reads frames
 * from standard input once, as they come (e.g. from ffmpeg through a pipe).
 *
 * It sets the output format (VIDIOC_S_FMT on the OUTPUT queue) and frame
 * interval (VIDIOC_S_PARM), marks itself as the device's writer
 * (VIDIOC_STREAMON on OUTPUT, so that v4l2loopback announces the OUTPUT
 * capability again once it exits), then write()s one frame per period on an
 * absolute clock. v4l2loopback numbers written frames 0, 1, 2... in
 * v4l2_buffer.sequence, so a reader that keeps up sees no gap.
 *
 * A writer that only write()s and never STREAMONs (ffmpeg's v4l2 output)
 * leaves a device with exclusive_caps=1 announcing neither CAPTURE nor OUTPUT
 * once everyone has closed it, and the V4L2 core then refuses S_FMT. This
 * program recognises that state and clears it (a STREAMON on OUTPUT and a
 * close make v4l2loopback announce OUTPUT again) before it starts. It refuses
 * a device that announces CAPTURE but not OUTPUT: another writer feeds it.
 *
 * Standard output gets one line once the first frame is written, which is
 * when the capture side can open the device and negotiate its format:
 *   ready DEV FOURCC WxH FPS/1 frames=N
 * (N: frames in one loop of FILE, 0 for standard input). SIGTERM or SIGINT
 * stops it cleanly (exit 0); so does the end of --seconds or of standard
 * input. On exit, standard error gets the frames written, the rate achieved
 * and the frames that were late by more than a period (the schedule then
 * restarts from the late frame rather than bursting to catch up, which would
 * make the reader skip frames).
 *
 * Exit status: 0 on a clean stop, 1 on a device or input error, 2 on bad
 * arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/videodev2.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *prog = "loopback-write";
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do { r = ioctl(fd, req, arg); } while (r < 0 && errno == EINTR);
    return r;
}

/* A growable byte buffer. */
struct buf { unsigned char *p; size_t len, cap; };

static void buf_put(struct buf *b, int c)
{
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1 << 16;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die(1, "out of memory");
    }
    b->p[b->len++] = (unsigned char)c;
}

/* Where the JPEG parser reads its bytes: memory or a stream. */
struct reader {
    const unsigned char *mem; size_t size, pos; /* memory */
    FILE *in;                                    /* or a stream */
};

static int rd(struct reader *r)
{
    if (r->in) return getc_unlocked(r->in);
    return r->pos < r->size ? r->mem[r->pos++] : EOF;
}

/*
 * Copy one JPEG image (SOI to EOI) from r into out. Marker segments are
 * skipped by their length; entropy-coded data after SOS runs to the next
 * marker that is neither a stuffed 0xFF00 nor a restart marker. Returns 1 for
 * an image, 0 at a clean end of input, -1 on malformed input (why in *err).
 */
static int next_jpeg(struct reader *r, struct buf *out, const char **err)
{
    int c, m, pending = -1;
    out->len = 0;
    c = rd(r);
    if (c == EOF) return 0;
    if (c != 0xFF || rd(r) != 0xD8) { *err = "not a JPEG image (no SOI marker)"; return -1; }
    buf_put(out, 0xFF); buf_put(out, 0xD8);
    for (;;) {
        if (pending >= 0) {
            m = pending; pending = -1;
        } else {
            if (rd(r) != 0xFF) { *err = "expected a marker"; return -1; }
            do { m = rd(r); } while (m == 0xFF);
        }
        if (m == EOF) { *err = "input ends inside an image"; return -1; }
        buf_put(out, 0xFF); buf_put(out, m);
        if (m == 0xD9) return 1;                         /* EOI */
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue; /* no length */
        int hi = rd(r), lo = rd(r);
        if (hi == EOF || lo == EOF) { *err = "input ends inside a segment"; return -1; }
        int len = hi << 8 | lo;
        if (len < 2) { *err = "segment length below 2"; return -1; }
        buf_put(out, hi); buf_put(out, lo);
        for (int i = 0; i < len - 2; i++) {
            if ((c = rd(r)) == EOF) { *err = "input ends inside a segment"; return -1; }
            buf_put(out, c);
        }
        if (m != 0xDA) continue;
        /* SOS: entropy-coded data up to the next real marker. */
        for (;;) {
            if ((c = rd(r)) == EOF) { *err = "input ends inside scan data"; return -1; }
            if (c != 0xFF) { buf_put(out, c); continue; }
            do { c = rd(r); } while (c == 0xFF);
            if (c == EOF) { *err = "input ends inside scan data"; return -1; }
            if (c == 0x00 || (c >= 0xD0 && c <= 0xD7)) { buf_put(out, 0xFF); buf_put(out, c); continue; }
            pending = c;
            break;
        }
    }
}

/*
 * The frames of a FILE, in memory: offsets and lengths. JPEG files are small
 * and read whole before the first frame (their frames must be found); raw
 * files are large (92 MB for 10 s of 640x480 YUYV), so a thread reads them
 * while the first loop plays, and `loaded` says how far it has got.
 */
struct clip {
    unsigned char *data;
    size_t size, count, *off, *len;
    int fd;
    const char *path;
    int64_t t0;
    _Atomic size_t loaded;
    _Atomic int load_errno;
};

static void read_all(struct clip *clip, size_t chunk)
{
    for (size_t got = 0; got < clip->size;) {
        size_t want = clip->size - got < chunk ? clip->size - got : chunk;
        ssize_t n = read(clip->fd, clip->data + got, want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            atomic_store(&clip->load_errno, n < 0 ? errno : EIO);
            return;
        }
        got += (size_t)n;
        atomic_store(&clip->loaded, got);
    }
}

static int64_t now_ns(void);

static void *loader(void *arg)
{
    struct clip *clip = arg;
    read_all(clip, 1 << 20);
    if (!atomic_load(&clip->load_errno))
        fprintf(stderr, "%s: %zu frames (%.1f MB) read in %.2f s\n", prog, clip->count, clip->size / 1e6,
                (now_ns() - clip->t0) / 1e9);
    close(clip->fd);
    return NULL;
}

static void index_add(struct clip *clip, size_t *cap, size_t off, size_t len)
{
    if (clip->count == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        clip->off = realloc(clip->off, *cap * sizeof *clip->off);
        clip->len = realloc(clip->len, *cap * sizeof *clip->len);
        if (!clip->off || !clip->len) die(1, "out of memory");
    }
    clip->off[clip->count] = off;
    clip->len[clip->count] = len;
    clip->count++;
}

static void load_clip(const char *path, int mjpeg, size_t frame_size, struct clip *clip)
{
    clip->path = path;
    clip->t0 = now_ns();
    clip->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (clip->fd < 0) die(1, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(clip->fd, &st) < 0) die(1, "cannot stat %s: %s", path, strerror(errno));
    if (st.st_size == 0) die(1, "%s is empty", path);
    clip->size = (size_t)st.st_size;
    clip->data = malloc(clip->size);
    if (!clip->data) die(1, "%s: %zu bytes do not fit in memory", path, clip->size);
    size_t cap = 0;

    if (!mjpeg) {
        if (clip->size % frame_size)
            die(1, "%s: %zu bytes is not a whole number of %zu-byte frames (wrong --size?)",
                path, clip->size, frame_size);
        for (size_t off = 0; off < clip->size; off += frame_size) index_add(clip, &cap, off, frame_size);
        pthread_t t;
        int e = pthread_create(&t, NULL, loader, clip);
        if (e) die(1, "cannot start the reading thread: %s", strerror(e));
        pthread_detach(t);
        return;
    }

    read_all(clip, clip->size);
    if (atomic_load(&clip->load_errno)) die(1, "cannot read %s: %s", path, strerror(clip->load_errno));
    close(clip->fd);
    struct reader r = { .mem = clip->data, .size = clip->size };
    struct buf scratch = { 0 };
    for (;;) {
        size_t start = r.pos;
        const char *err = NULL;
        int k = next_jpeg(&r, &scratch, &err);
        if (k < 0) die(1, "%s: frame %zu at byte %zu: %s", path, clip->count, start, err);
        if (k == 0) break;
        index_add(clip, &cap, start, r.pos - start);
    }
    free(scratch.p);
    fprintf(stderr, "%s: %zu frames (%.1f MB) read in %.2f s\n", prog, clip->count, clip->size / 1e6,
            (now_ns() - clip->t0) / 1e9);
}

/*
 * Wait until the reading thread has frame i (only ever during the first
 * loop); false if a stop was asked for meanwhile.
 */
static int await_frame(struct clip *clip, size_t i)
{
    while (atomic_load(&clip->loaded) < clip->off[i] + clip->len[i]) {
        int e = atomic_load(&clip->load_errno);
        if (e) die(1, "cannot read %s: %s", clip->path, strerror(e));
        if (stop_requested) return 0;
        struct timespec ts = { .tv_nsec = 1000000 };
        nanosleep(&ts, NULL);
    }
    return 1;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
    /* Returns early (EINTR) on a stop signal; the caller checks. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/*
 * Open DEV as v4l2loopback's writer. QUERYCAP also refreshes the caps that
 * the V4L2 core checks S_FMT against (v4l2loopback rewrites them there).
 */
static int open_output(const char *device)
{
    for (int attempt = 0;; attempt++) {
        int fd = open(device, O_RDWR | O_CLOEXEC);
        if (fd < 0) die(1, "cannot open %s: %s", device, strerror(errno));
        struct v4l2_capability cap = { 0 };
        if (xioctl(fd, VIDIOC_QUERYCAP, &cap) < 0) die(1, "%s: VIDIOC_QUERYCAP: %s", device, strerror(errno));
        uint32_t caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps : cap.capabilities;
        if (caps & V4L2_CAP_VIDEO_OUTPUT) return fd;
        if (caps & V4L2_CAP_VIDEO_CAPTURE)
            die(1, "%s (%s) is not accepting a writer: another program feeds it, or a writer that never "
                "streamed (e.g. ffmpeg -f v4l2) left it while a reader still has it open", device,
                (const char *)cap.card);
        if (attempt > 0)
            die(1, "%s (%s, driver %s) offers no video output", device, (const char *)cap.card,
                (const char *)cap.driver);
        /* The state a write()-only writer leaves behind: clear it. */
        int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
        xioctl(fd, VIDIOC_STREAMON, &type);  /* fails (no format yet), but marks us as the writer */
        close(fd);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: %s --device DEV --format yuyv|mjpeg --size WxH --fps N [--seconds N] FILE|-\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *device = NULL, *format = NULL, *input = NULL;
    unsigned width = 0, height = 0, fps = 0;
    double seconds = 0;
    static const struct option opts[] = {
        { "device", required_argument, NULL, 'd' }, { "format", required_argument, NULL, 'f' },
        { "size", required_argument, NULL, 's' },   { "fps", required_argument, NULL, 'r' },
        { "seconds", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int o;
    while ((o = getopt_long(argc, argv, "d:f:s:r:t:h", opts, NULL)) != -1) {
        char *end;
        switch (o) {
        case 'd': device = optarg; break;
        case 'f': format = optarg; break;
        case 's':
            if (sscanf(optarg, "%ux%u", &width, &height) != 2 || !width || !height) usage();
            break;
        case 'r':
            fps = (unsigned)strtoul(optarg, &end, 10);
            if (*end || fps < 1 || fps > 240) usage();
            break;
        case 't':
            seconds = strtod(optarg, &end);
            if (*end || seconds <= 0) usage();
            break;
        default: usage();
        }
    }
    if (optind != argc - 1 || !device || !format || !width || !fps) usage();
    input = argv[optind];
    int mjpeg;
    if (!strcmp(format, "yuyv")) mjpeg = 0;
    else if (!strcmp(format, "mjpeg")) mjpeg = 1;
    else usage();
    uint32_t fourcc = mjpeg ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_YUYV;
    size_t frame_size = (size_t)width * height * 2;

    struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART: stop the sleep */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct clip clip = { 0 };
    struct reader stream = { 0 };
    if (strcmp(input, "-")) {
        load_clip(input, mjpeg, frame_size, &clip);
        if (!clip.count) die(1, "%s holds no frame", input);
    } else {
        stream.in = stdin;
    }

    int fd = open_output(device);

    struct v4l2_format fmt = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
    fmt.fmt.pix.width = width;
    fmt.fmt.pix.height = height;
    fmt.fmt.pix.pixelformat = fourcc;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    fmt.fmt.pix.bytesperline = mjpeg ? 0 : width * 2;
    fmt.fmt.pix.sizeimage = mjpeg ? 0 : (uint32_t)frame_size;
    if (xioctl(fd, VIDIOC_S_FMT, &fmt) < 0)
        die(1, "%s: VIDIOC_S_FMT (output %ux%u %s): %s", device, width, height, format, strerror(errno));
    if (fmt.fmt.pix.pixelformat != fourcc || fmt.fmt.pix.width != width || fmt.fmt.pix.height != height) {
        uint32_t f = fmt.fmt.pix.pixelformat;
        die(1, "%s keeps %c%c%c%c %ux%u, not the %ux%u %s asked for: another program still has it open "
            "with that format (a reader or a writer); close it first",
            device, f & 0xff, f >> 8 & 0xff, f >> 16 & 0xff, f >> 24, fmt.fmt.pix.width,
            fmt.fmt.pix.height, width, height, format);
    }
    struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_OUTPUT };
    parm.parm.output.timeperframe.numerator = 1;
    parm.parm.output.timeperframe.denominator = fps;
    if (xioctl(fd, VIDIOC_S_PARM, &parm) < 0)
        die(1, "%s: VIDIOC_S_PARM (1/%u s): %s", device, fps, strerror(errno));
    int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    if (xioctl(fd, VIDIOC_STREAMON, &type) < 0)
        die(1, "%s: VIDIOC_STREAMON (output): %s", device, strerror(errno));

    const int64_t period = 1000000000 / fps;
    struct buf frame = { 0 };
    uint64_t written = 0, late = 0, n = 0;
    int64_t start = now_ns(), base = start;
    int64_t end = seconds > 0 ? start + (int64_t)(seconds * 1e9) : INT64_MAX;
    int status = 0;
    while (!stop_requested) {
        const unsigned char *p;
        size_t len;
        if (clip.count) {
            size_t i = written % clip.count;
            if (written < clip.count && !await_frame(&clip, i)) break;
            p = clip.data + clip.off[i];
            len = clip.len[i];
        } else if (mjpeg) {
            const char *err = NULL;
            int k = next_jpeg(&stream, &frame, &err);
            if (k == 0 || stop_requested) break;
            if (k < 0) {
                fprintf(stderr, "%s: frame %llu of the input: %s\n", prog, (unsigned long long)written, err);
                status = 1;
                break;
            }
            p = frame.p; len = frame.len;
        } else {
            if (frame.cap < frame_size) {
                frame.p = realloc(frame.p, frame_size);
                if (!frame.p) die(1, "out of memory");
                frame.cap = frame_size;
            }
            size_t got = fread(frame.p, 1, frame_size, stdin);
            if ((got == 0 && feof(stdin)) || stop_requested) break;
            if (got != frame_size) { fprintf(stderr, "%s: input ends inside a frame\n", prog); status = 1; break; }
            p = frame.p; len = frame_size;
        }

        int64_t due = base + (int64_t)n * period, t = now_ns();
        if (t < due) {
            sleep_until(due);
            if (stop_requested) break;
        } else if (t - due > period && written > 0) {
            late++;
            base = t - (int64_t)n * period;  /* restart the schedule here */
        }
        if (now_ns() >= end) break;

        ssize_t w;
        do { w = write(fd, p, len); } while (w < 0 && errno == EINTR && !stop_requested);
        if (w < 0 && errno == EINTR) break;
        if (w < 0) { fprintf(stderr, "%s: write to %s: %s\n", prog, device, strerror(errno)); status = 1; break; }
        if ((size_t)w != len) {
            fprintf(stderr, "%s: %s took %zd of a %zu-byte frame (buffer too small for it)\n", prog, device, w, len);
            status = 1;
            break;
        }
        if (written++ == 0) {
            printf("ready %s %s %ux%u %u/1 frames=%zu\n", device, mjpeg ? "MJPG" : "YUYV", width, height, fps,
                   clip.count);
            fflush(stdout);
        }
        n++;
    }
    double elapsed = (now_ns() - start) / 1e9;
    fprintf(stderr, "%s: %llu frames in %.1f s (%.2f fps), %llu late\n", prog, (unsigned long long)written,
            elapsed, elapsed > 0 ? written / elapsed : 0.0, (unsigned long long)late);
    close(fd);
    return status;
}
