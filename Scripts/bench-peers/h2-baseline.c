/*
 * h2-baseline — the bare nghttp2 reference for `Scripts/bench rpc` (spec/06 §10).
 *
 * One thread, one epoll loop, libnghttp2 1.52's ssize_t API (nghttp2_session_mem_recv /
 * nghttp2_session_mem_send) over non-blocking h2c (prior knowledge) connections on
 * 127.0.0.1:PORT. Every request to POST /grpc.health.v1.Health/Check is answered, once the
 * client's END_STREAM has arrived, with
 *   HEADERS :status 200, content-type application/grpc
 *   DATA    00 00 00 00 02 08 01   (HealthCheckResponse{status: SERVING})
 *   HEADERS grpc-status 0 (END_STREAM)
 * and any other path with a trailers-only grpc-status 12. The request body is read and
 * dropped. SETTINGS match tokmesh-server's public port (spec/06 §5): 100 concurrent streams,
 * 1 MiB stream window, 16 MiB connection window.
 *
 * Build: gcc -O2 -o h2-baseline h2-baseline.c -lnghttp2   Run: h2-baseline PORT
 * Written for the benchmark only: no TLS, no timeouts, no limits beyond nghttp2's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define HEALTH_CHECK_PATH "/grpc.health.v1.Health/Check"
#define READ_CHUNK 65536
#define WRITE_BATCH 65536

static const uint8_t health_reply[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x01};

typedef struct conn {
  int fd;
  int want_out; /* EPOLLOUT registered */
  nghttp2_session *session;
  uint8_t *out;
  size_t out_len, out_off, out_cap;
} conn;

typedef struct stream {
  int health_check; /* :path is Health/Check */
  int sent;         /* bytes of health_reply already handed to nghttp2 */
} stream;

static int epfd;

#define NV(name, value)                                                                     \
  {                                                                                         \
    (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, sizeof(value) - 1,             \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE                        \
  }

static nghttp2_nv response_headers[] = {NV(":status", "200"), NV("content-type", "application/grpc")};
static nghttp2_nv ok_trailers[] = {NV("grpc-status", "0")};
static nghttp2_nv unimplemented_headers[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                                             NV("grpc-status", "12")};

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* ---- nghttp2 callbacks ------------------------------------------------------------------- */

static ssize_t read_reply(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                          uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
  (void)user_data;
  stream *st = source->ptr;
  size_t left = sizeof(health_reply) - (size_t)st->sent;
  size_t n = left < length ? left : length;
  memcpy(buf, health_reply + st->sent, n);
  st->sent += (int)n;
  if ((size_t)st->sent == sizeof(health_reply)) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    if (nghttp2_submit_trailer(session, stream_id, ok_trailers, 1) != 0) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
  }
  return (ssize_t)n;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  stream *st = calloc(1, sizeof *st);
  if (st == NULL) return NGHTTP2_ERR_CALLBACK_FAILURE;
  nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st);
  return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data) {
  (void)flags, (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (st != NULL && namelen == 5 && memcmp(name, ":path", 5) == 0) {
    st->health_check = valuelen == sizeof(HEALTH_CHECK_PATH) - 1 && memcmp(value, HEALTH_CHECK_PATH, valuelen) == 0;
  }
  return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
  (void)user_data;
  if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
      !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
    return 0;
  }
  stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (st == NULL) return 0;
  if (!st->health_check) {
    return nghttp2_submit_response(session, frame->hd.stream_id, unimplemented_headers, 3, NULL);
  }
  nghttp2_data_provider provider = {.source = {.ptr = st}, .read_callback = read_reply};
  return nghttp2_submit_response(session, frame->hd.stream_id, response_headers, 2, &provider);
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) {
  (void)error_code, (void)user_data;
  free(nghttp2_session_get_stream_user_data(session, stream_id));
  nghttp2_session_set_stream_user_data(session, stream_id, NULL);
  return 0;
}

static nghttp2_session_callbacks *callbacks;

/* ---- connections ------------------------------------------------------------------------- */

static void conn_close(conn *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  nghttp2_session_del(c->session);
  free(c->out);
  free(c);
}

static int set_out_interest(conn *c, int want_out) {
  if (c->want_out == want_out) return 0;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
  c->want_out = want_out;
  return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Hands everything nghttp2 has queued to the socket, gathered into as few write(2)s as fit. */
static int conn_flush(conn *c) {
  for (;;) {
    if (c->out_off == c->out_len) {
      c->out_off = c->out_len = 0;
      while (c->out_len < WRITE_BATCH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0) return -1;
        if (n == 0) break;
        if (c->out_len + (size_t)n > c->out_cap) {
          size_t cap = c->out_cap ? c->out_cap : WRITE_BATCH;
          while (cap < c->out_len + (size_t)n) cap *= 2;
          uint8_t *out = realloc(c->out, cap);
          if (out == NULL) return -1;
          c->out = out;
          c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, data, (size_t)n);
        c->out_len += (size_t)n;
      }
      if (c->out_len == 0) break;
    }
    ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return set_out_interest(c, 1);
      return -1;
    }
    c->out_off += (size_t)w;
  }
  if (set_out_interest(c, 0) != 0) return -1;
  if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) return -1;
  return 0;
}

static int conn_read(conn *c) {
  static uint8_t buf[READ_CHUNK];
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0) return -1;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -1;
    }
    if (nghttp2_session_mem_recv(c->session, buf, (size_t)n) < 0) return -1;
    if ((size_t)n < sizeof buf) return 0;
  }
}

static void conn_accept(int lfd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN, or out of descriptors: try again on the next event */
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = calloc(1, sizeof *c);
    if (c == NULL || nghttp2_session_server_new(&c->session, callbacks, c) != 0) {
      free(c);
      close(fd);
      continue;
    }
    c->fd = fd;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16 << 10},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 4) != 0 ||
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, 16 << 20) != 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      nghttp2_session_del(c->session);
      free(c);
      close(fd);
      continue;
    }
    if (conn_flush(c) != 0) conn_close(c);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 64;
  }
  int port = atoi(argv[1]);
  signal(SIGPIPE, SIG_IGN);

  if (nghttp2_session_callbacks_new(&callbacks) != 0) die("nghttp2_session_callbacks_new");
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0) die("bind");
  if (listen(lfd, 1024) != 0) die("listen");

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0) die("epoll_ctl");
  fprintf(stderr, "h2-baseline: listening on 127.0.0.1:%d\n", port);

  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epfd, events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      conn *c = events[i].data.ptr;
      if (c == NULL) {
        conn_accept(lfd);
        continue;
      }
      int failed = 0;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) failed = conn_read(c) != 0;
      if (!failed) failed = conn_flush(c) != 0;
      if (failed) conn_close(c);
    }
  }
}
