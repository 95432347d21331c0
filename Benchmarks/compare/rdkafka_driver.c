/*
 * rdkafka_driver: the librdkafka side of Benchmarks/compare.sh.
 *
 * Built against the librdkafka shared library bundled in the confluent-kafka wheel; the few declarations it
 * needs from rdkafka.h are repeated here (stable C ABI), so no headers are required.
 *
 *   rdkafka_driver produce BOOTSTRAP TOPIC SIZE COUNT ACKS COMPRESSION
 *   rdkafka_driver produce-for BOOTSTRAP TOPIC SIZE SECONDS ACKS COMPRESSION
 *   rdkafka_driver produce-keyed-for BOOTSTRAP TOPIC SIZE SECONDS ACKS KEYS
 *   rdkafka_driver latency BOOTSTRAP TOPIC SIZE RATE SECONDS ACKS
 *   rdkafka_driver consume BOOTSTRAP TOPIC COUNT
 *   rdkafka_driver consume-for BOOTSTRAP TOPIC SECONDS
 *
 * consume-for reads partition 0 from the beginning for SECONDS (timed from the first message to the end of the
 * run), seeking back to the beginning whenever it reaches the end (fetch.wait.max.ms 10, so the end is seen soon),
 * so a run lasts SECONDS whatever the size of the topic.
 * RDKAFKA_DRIVER_PROPERTIES (environment): further librdkafka properties for every client, "name=value" pairs
 * separated by newlines (e.g. security.protocol, ssl.ca.location, sasl.mechanisms, sasl.username, ...).
 *
 * Each prints one JSON object on stdout. Payloads are the bytes portask-bench sends (BatchEncoder.makePayload).
 * Delivery reports are served by a dedicated thread blocked in rd_kafka_poll, so a report is timed when
 * librdkafka hands it over, not when the producing loop gets round to polling.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_topic_s rd_kafka_topic_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_message_s {
    int err;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    void *payload;
    size_t len;
    void *key;
    size_t key_len;
    int64_t offset;
    void *_private;
} rd_kafka_message_t;

enum { RD_KAFKA_PRODUCER = 0, RD_KAFKA_CONSUMER = 1 };
#define RD_KAFKA_RESP_ERR__QUEUE_FULL (-184)
#define RD_KAFKA_RESP_ERR__PARTITION_EOF (-191)
#define RD_KAFKA_OFFSET_BEGINNING (-2)

rd_kafka_conf_t *rd_kafka_conf_new(void);
int rd_kafka_conf_set(rd_kafka_conf_t *, const char *, const char *, char *, size_t);
void rd_kafka_conf_set_dr_msg_cb(rd_kafka_conf_t *, void (*)(rd_kafka_t *, const rd_kafka_message_t *, void *));
rd_kafka_t *rd_kafka_new(int, rd_kafka_conf_t *, char *, size_t);
rd_kafka_topic_t *rd_kafka_topic_new(rd_kafka_t *, const char *, void *);
int rd_kafka_produce(rd_kafka_topic_t *, int32_t, int, void *, size_t, const void *, size_t, void *);
int rd_kafka_poll(rd_kafka_t *, int);
int rd_kafka_flush(rd_kafka_t *, int);
void rd_kafka_topic_destroy(rd_kafka_topic_t *);
void rd_kafka_destroy(rd_kafka_t *);
int rd_kafka_last_error(void);
const char *rd_kafka_err2str(int);
const char *rd_kafka_version_str(void);
rd_kafka_queue_t *rd_kafka_queue_new(rd_kafka_t *);
void rd_kafka_queue_destroy(rd_kafka_queue_t *);
int rd_kafka_consume_start_queue(rd_kafka_topic_t *, int32_t, int64_t, rd_kafka_queue_t *);
int rd_kafka_consume_stop(rd_kafka_topic_t *, int32_t);
int rd_kafka_seek(rd_kafka_topic_t *, int32_t, int64_t, int);
int rd_kafka_consume_callback_queue(rd_kafka_queue_t *, int, void (*)(rd_kafka_message_t *, void *), void *);

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "rdkafka_driver: %s: %s\n", what, detail);
    exit(2);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != 0) die(name, err);
}

/* Applies RDKAFKA_DRIVER_PROPERTIES ("name=value" lines). */
static void set_extra(rd_kafka_conf_t *conf) {
    const char *text = getenv("RDKAFKA_DRIVER_PROPERTIES");
    if (!text) return;
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *equals = strchr(line, '=');
        if (!equals) die("RDKAFKA_DRIVER_PROPERTIES", "a line has no '='");
        *equals = 0;
        set(conf, line, equals + 1);
    }
    free(copy);
}

static char *payload_of(size_t size) {
    char *payload = malloc(size ? size : 1);
    uint32_t state = 0x2545F491u;
    for (size_t i = 0; i < size; i++) {
        state = state * 1103515245u + 12345u;
        payload[i] = (char)('a' + (state >> 16) % 16);
    }
    return payload;
}

/* Shared between the producing thread and the delivery-report thread. */
static volatile long delivered, failed;
static volatile int stop_poller;
static int64_t *sent_at, *acked_at;
static int first_error;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk, (void)opaque;
    if (m->err) {
        if (!first_error) first_error = m->err;
        __atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
    } else if (acked_at) {
        acked_at[(intptr_t)m->_private] = now_ns();
    }
    __atomic_add_fetch(&delivered, 1, __ATOMIC_RELEASE);
}

static void *poller(void *arg) {
    rd_kafka_t *rk = arg;
    while (!__atomic_load_n(&stop_poller, __ATOMIC_ACQUIRE)) rd_kafka_poll(rk, 50);
    return NULL;
}

static rd_kafka_t *producer_queueing(const char *bootstrap, const char *acks, const char *compression,
                                     const char *linger, const char *queue_messages) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", acks);
    set(conf, "compression.codec", compression);
    set(conf, "linger.ms", linger);
    set(conf, "queue.buffering.max.messages", queue_messages);
    set(conf, "enable.idempotence", "false");
    set_extra(conf);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) die("rd_kafka_new", err);
    return rk;
}

static rd_kafka_t *producer(const char *bootstrap, const char *acks, const char *compression, const char *linger) {
    return producer_queueing(bootstrap, acks, compression, linger, "1000000");
}

/* Keys of produce-keyed-for: message i gets "key-<i mod keys>"; 0 keys means no key. */
static long key_count;

static void produce_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, char *payload, size_t size, long index) {
    char key[32];
    int key_length = key_count > 0 ? snprintf(key, sizeof key, "key-%08ld", index % key_count) : 0;
    while (rd_kafka_produce(rkt, 0, 0, payload, size, key_length ? key : NULL, (size_t)key_length,
                            (void *)(intptr_t)index) != 0) {
        int err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(err));
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    (void)rk;
}

/* produce: COUNT messages as fast as librdkafka takes them. produce-for (duration != 0): as many as it takes in
 * DURATION seconds (checked every 256 messages), then the time until all are delivered is counted too. */
static int run_produce(char **argv, double duration) {
    const char *bootstrap = argv[0], *topic = argv[1];
    size_t size = strtoul(argv[2], NULL, 10);
    long count = duration > 0 ? 0 : strtol(argv[3], NULL, 10);
    /* A timed run queues at most 100,000 messages, so it ends soon after its duration. */
    rd_kafka_t *rk = producer_queueing(bootstrap, argv[4], argv[5], "5", duration > 0 ? "100000" : "1000000");
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *payload = payload_of(size);
    pthread_t thread;
    pthread_create(&thread, NULL, poller, rk);
    /* One message first, so connection set-up is not timed. */
    produce_one(rk, rkt, payload, size, 0);
    while (__atomic_load_n(&delivered, __ATOMIC_ACQUIRE) < 1) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    double start = now_s();
    if (duration > 0) {
        long i = 1;
        for (; (i & 255) || now_s() - start < duration; i++) produce_one(rk, rkt, payload, size, i);
        count = i;
    } else {
        for (long i = 1; i < count; i++) produce_one(rk, rkt, payload, size, i);
    }
    while (__atomic_load_n(&delivered, __ATOMIC_ACQUIRE) < count) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    double seconds = now_s() - start;
    __atomic_store_n(&stop_poller, 1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    long timed = count - 1;
    printf("{\"messages\": %ld, \"failed\": %ld, \"bytes\": %ld, \"seconds\": %.6f, \"msgs_per_sec\": %.1f, "
           "\"mb_per_sec\": %.3f, \"error\": \"%s\"}\n",
           count, failed, (long)(count * size), seconds, timed / seconds, timed * (double)size / seconds / 1e6,
           first_error ? rd_kafka_err2str(first_error) : "");
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}

static int compare_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int run_latency(char **argv) {
    const char *bootstrap = argv[0], *topic = argv[1];
    size_t size = strtoul(argv[2], NULL, 10);
    double rate = strtod(argv[3], NULL), seconds = strtod(argv[4], NULL);
    long count = (long)(rate * seconds);
    if (count < 1) count = 1;
    rd_kafka_t *rk = producer(bootstrap, argv[5], "none", "0");
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    char *payload = payload_of(size);
    long warmup = count / 10 < 100 ? 100 : count / 10;  /* connection set-up and first appends, not reported */
    long total = count + warmup;
    sent_at = calloc(total, sizeof *sent_at);
    acked_at = calloc(total, sizeof *acked_at);
    pthread_t thread;
    pthread_create(&thread, NULL, poller, rk);
    int64_t start = now_ns(), interval = (int64_t)(1e9 / rate);
    for (long i = 0; i < total; i++) {
        int64_t due = start + i * interval;
        struct timespec until = {due / 1000000000, due % 1000000000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
        sent_at[i] = now_ns();
        produce_one(rk, rkt, payload, size, i);
    }
    rd_kafka_flush(rk, 30000);
    while (__atomic_load_n(&delivered, __ATOMIC_ACQUIRE) < total) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    __atomic_store_n(&stop_poller, 1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    int64_t *latency = malloc(count * sizeof *latency);
    for (long i = 0; i < count; i++) latency[i] = acked_at[warmup + i] - sent_at[warmup + i];
    const char *dump = getenv("RDKAFKA_DRIVER_LATENCY_DUMP"); /* "send_offset_ns latency_ns" per message */
    if (dump) {
        FILE *out = fopen(dump, "w");
        for (long i = 0; out && i < count; i++)
            fprintf(out, "%lld %lld\n", (long long)(sent_at[warmup + i] - start), (long long)latency[i]);
        if (out) fclose(out);
    }
    qsort(latency, count, sizeof *latency, compare_int64);
    double p50 = latency[(long)(count * 0.50)] / 1e6, p99 = latency[(long)(count * 0.99)] / 1e6;
    double p999 = latency[(long)(count * 0.999)] / 1e6, max = latency[count - 1] / 1e6;
    printf("{\"messages\": %ld, \"failed\": %ld, \"rate\": %.1f, \"p50_ms\": %.4f, \"p99_ms\": %.4f, "
           "\"p999_ms\": %.4f, \"max_ms\": %.4f, \"error\": \"%s\"}\n",
           count, failed, rate, p50, p99, p999, max, first_error ? rd_kafka_err2str(first_error) : "");
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return failed ? 1 : 0;
}

static long consumed, consumed_bytes;
static int consume_error, reached_end;
static double first_message_at, last_message_at;

static void on_message(rd_kafka_message_t *m, void *opaque) {
    (void)opaque;
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) reached_end = 1;
        else if (!consume_error) consume_error = m->err;
        return;
    }
    if (!consumed) first_message_at = now_s();
    consumed++;
    consumed_bytes += m->len;
    last_message_at = now_s();
}

/* consume (duration 0): COUNT messages from the beginning. consume-for: DURATION seconds from the first message,
 * starting again from the beginning at the end of the partition. */
static int run_consume(char **argv, double duration) {
    const char *bootstrap = argv[0], *topic = argv[1];
    long count = duration > 0 ? -1 : strtol(argv[2], NULL, 10);
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", "rdkafka-driver");
    set(conf, "enable.auto.commit", "false");
    if (duration > 0) {
        /* The end of the partition is reported by a fetch that found nothing: it should not wait long. */
        set(conf, "enable.partition.eof", "true");
        set(conf, "fetch.wait.max.ms", "10");
    }
    set_extra(conf);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) die("rd_kafka_new", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
    double start = now_s();
    if (rd_kafka_consume_start_queue(rkt, 0, RD_KAFKA_OFFSET_BEGINNING, queue) != 0)
        die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));
    double deadline = start + 300;
    int seeks = 0;
    if (duration > 0) {
        while (!consume_error && now_s() < deadline && (!consumed || now_s() - first_message_at < duration)) {
            rd_kafka_consume_callback_queue(queue, 100, on_message, NULL);
            if (reached_end) {
                reached_end = 0;
                seeks++;
                int err = rd_kafka_seek(rkt, 0, RD_KAFKA_OFFSET_BEGINNING, 10000);
                if (err) die("seek", rd_kafka_err2str(err));
            }
        }
        count = consumed;
        last_message_at = now_s(); /* the rate covers the whole run, seeks included */
    } else {
        while (consumed < count && !consume_error && now_s() < deadline)
            rd_kafka_consume_callback_queue(queue, 100, on_message, NULL);
    }
    /* Timed from the first message to the last, so connection and metadata set-up are not counted. */
    double seconds = last_message_at - first_message_at;
    if (seconds <= 0) seconds = 1e-6;
    printf("{\"messages\": %ld, \"bytes\": %ld, \"seconds\": %.6f, \"startup_seconds\": %.6f, "
           "\"seeks\": %d, \"msgs_per_sec\": %.1f, \"mb_per_sec\": %.3f, \"error\": \"%s\"}\n",
           consumed, consumed_bytes, seconds, first_message_at - start, seeks, consumed / seconds,
           consumed_bytes / seconds / 1e6,
           consume_error ? rd_kafka_err2str(consume_error) : "");
    rd_kafka_consume_stop(rkt, 0);
    rd_kafka_queue_destroy(queue);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return consumed >= count && !consume_error ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 8 && !strcmp(argv[1], "produce")) return run_produce(argv + 2, 0);
    if (argc == 8 && (!strcmp(argv[1], "produce-for") || !strcmp(argv[1], "produce-keyed-for"))) {
        double duration = strtod(argv[5], NULL);
        if (!(duration > 0)) die("produce-for", "SECONDS must be positive");
        if (!strcmp(argv[1], "produce-keyed-for")) {
            key_count = strtol(argv[7], NULL, 10);
            if (key_count < 1) die("produce-keyed-for", "KEYS must be positive");
            argv[7] = "none";
        }
        return run_produce(argv + 2, duration);
    }
    if (argc == 8 && !strcmp(argv[1], "latency")) return run_latency(argv + 2);
    if (argc == 5 && !strcmp(argv[1], "consume")) return run_consume(argv + 2, 0);
    if (argc == 5 && !strcmp(argv[1], "consume-for")) {
        double duration = strtod(argv[4], NULL);
        if (!(duration > 0)) die("consume-for", "SECONDS must be positive");
        return run_consume(argv + 2, duration);
    }
    fprintf(stderr,
            "usage: rdkafka_driver produce BOOTSTRAP TOPIC SIZE COUNT ACKS COMPRESSION\n"
            "       rdkafka_driver produce-for BOOTSTRAP TOPIC SIZE SECONDS ACKS COMPRESSION\n"
            "       rdkafka_driver produce-keyed-for BOOTSTRAP TOPIC SIZE SECONDS ACKS KEYS\n"
            "       rdkafka_driver latency BOOTSTRAP TOPIC SIZE RATE SECONDS ACKS\n"
            "       rdkafka_driver consume BOOTSTRAP TOPIC COUNT\n"
            "       rdkafka_driver consume-for BOOTSTRAP TOPIC SECONDS\n"
            "librdkafka %s\n", rd_kafka_version_str());
    return 2;
}
