import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java-client counterpart of rdkafka_driver's timed modes, for the benchmark scripts (Kafka's kafka-clients
 * on the class path; run as {@code java -cp CLASSPATH JavaPerfDriver.java MODE ...}).
 *
 * <pre>
 *   JavaPerfDriver produce-for BOOTSTRAP TOPIC SIZE SECONDS ACKS COMPRESSION
 *   JavaPerfDriver consume-for BOOTSTRAP TOPIC SECONDS
 * </pre>
 *
 * produce-for sends SIZE-byte values to partition 0 for SECONDS (checked every 256 messages), timed from the
 * delivery of a first untimed message to the last delivery, the drain included; it prints {"messages", "failed",
 * "bytes", "seconds", "msgs_per_sec", "mb_per_sec", "error"} as rdkafka_driver does. consume-for assigns partition
 * 0, reads it from the beginning for SECONDS timed from the first message, and seeks back to the beginning when
 * its position reaches the end offset read at the start; it prints {"messages", "bytes", "seconds",
 * "startup_seconds", "seeks", "msgs_per_sec", "mb_per_sec", "error"}. Both add "cpu_seconds_timed": the JVM's CPU
 * time (all threads, user + system) within the timed interval, so JVM start-up and compilation are not in it.
 *
 * RDKAFKA_DRIVER_PROPERTIES (environment): "name=value" lines with librdkafka names, mapped to the Java client's:
 * ssl.ca.location becomes a PEM trust store, sasl.mechanisms becomes sasl.mechanism, sasl.username and
 * sasl.password become a ScramLoginModule sasl.jaas.config; other names (security.protocol, ...) pass unchanged.
 * The producer uses librdkafka-like settings: linger.ms 5, batch.size 1048576, no idempotence.
 */
public class JavaPerfDriver {
    public static void main(String[] args) throws Exception {
        if (args.length == 7 && args[0].equals("produce-for")) {
            double seconds = Double.parseDouble(args[4]);
            if (!(seconds > 0)) fail("produce-for: SECONDS must be positive");
            System.exit(produceFor(args[1], args[2], Integer.parseInt(args[3]), seconds, args[5], args[6]));
        }
        if (args.length == 4 && args[0].equals("consume-for")) {
            double seconds = Double.parseDouble(args[3]);
            if (!(seconds > 0)) fail("consume-for: SECONDS must be positive");
            System.exit(consumeFor(args[1], args[2], seconds));
        }
        fail("usage: JavaPerfDriver produce-for BOOTSTRAP TOPIC SIZE SECONDS ACKS COMPRESSION\n"
                + "       JavaPerfDriver consume-for BOOTSTRAP TOPIC SECONDS");
    }

    private static void fail(String message) {
        System.err.println("JavaPerfDriver: " + message);
        System.exit(2);
    }

    private static double nowSeconds() {
        return System.nanoTime() / 1e9;
    }

    /** CPU time of the whole JVM (user + system, every thread), in seconds. */
    private static double processCpuSeconds() {
        var bean = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return bean.getProcessCpuTime() / 1e9;
    }

    /** Client properties from RDKAFKA_DRIVER_PROPERTIES, librdkafka names mapped to the Java client's. */
    private static Properties extraProperties() {
        Properties properties = new Properties();
        String text = System.getenv("RDKAFKA_DRIVER_PROPERTIES");
        if (text == null) return properties;
        String username = null, password = null;
        for (String line : text.split("\n")) {
            if (line.isEmpty()) continue;
            int equals = line.indexOf('=');
            if (equals < 0) fail("RDKAFKA_DRIVER_PROPERTIES: a line has no '='");
            String name = line.substring(0, equals), value = line.substring(equals + 1);
            switch (name) {
                case "ssl.ca.location" -> {
                    properties.put("ssl.truststore.type", "PEM");
                    properties.put("ssl.truststore.location", value);
                }
                case "sasl.mechanisms" -> properties.put("sasl.mechanism", value);
                case "sasl.username" -> username = value;
                case "sasl.password" -> password = value;
                default -> properties.put(name, value);
            }
        }
        if (username != null || password != null) {
            if (username == null || password == null) fail("sasl.username and sasl.password go together");
            properties.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    + "username=\"" + quoted(username) + "\" password=\"" + quoted(password) + "\";");
        }
        return properties;
    }

    private static String quoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** The values rdkafka_driver sends (the same generator, so both clients send the same bytes). */
    private static byte[] payloadOf(int size) {
        byte[] payload = new byte[size];
        int state = 0x2545F491;
        for (int i = 0; i < size; i++) {
            state = state * 1103515245 + 12345;
            payload[i] = (byte) ('a' + Integer.remainderUnsigned(state >>> 16, 16));
        }
        return payload;
    }

    private static int produceFor(String bootstrap, String topic, int size, double duration, String acks,
                                  String compression) throws Exception {
        Properties config = new Properties();
        config.put("bootstrap.servers", bootstrap);
        config.put("acks", acks);
        config.put("compression.type", compression);
        config.put("linger.ms", "5");
        config.put("batch.size", "1048576");
        // About the 100,000 queued 1 KiB messages rdkafka_driver allows a timed run, so the drain is as short.
        config.put("buffer.memory", Long.toString(Math.max(128L << 20, 100_000L * size)));
        config.put("max.block.ms", "60000");
        config.put("enable.idempotence", "false");
        config.put("key.serializer", ByteArraySerializer.class.getName());
        config.put("value.serializer", ByteArraySerializer.class.getName());
        config.putAll(extraProperties());
        byte[] payload = payloadOf(size);
        AtomicLong delivered = new AtomicLong(), failed = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>("");
        Callback onDelivery = (metadata, exception) -> {
            if (exception != null) {
                firstError.compareAndSet("", String.valueOf(exception.getMessage()).replace("\"", "'"));
                failed.incrementAndGet();
            }
            delivered.incrementAndGet();
        };
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config)) {
            // One message first, so connection set-up is not timed.
            producer.send(new ProducerRecord<>(topic, 0, null, payload), onDelivery);
            producer.flush();
            double cpuStart = processCpuSeconds();
            double start = nowSeconds();
            long count = 1;
            for (; (count & 255) != 0 || nowSeconds() - start < duration; count++) {
                producer.send(new ProducerRecord<>(topic, 0, null, payload), onDelivery);
            }
            producer.flush();
            while (delivered.get() < count) Thread.sleep(0, 100_000);
            double seconds = nowSeconds() - start;
            double cpu = processCpuSeconds() - cpuStart;
            long timed = count - 1;
            System.out.printf(Locale.ROOT, "{\"messages\": %d, \"failed\": %d, \"bytes\": %d, \"seconds\": %.6f, "
                            + "\"msgs_per_sec\": %.1f, \"mb_per_sec\": %.3f, \"cpu_seconds_timed\": %.3f, "
                            + "\"error\": \"%s\"}%n",
                    count, failed.get(), count * size, seconds, timed / seconds, timed * (double) size / seconds / 1e6,
                    cpu, firstError.get());
            return failed.get() == 0 ? 0 : 1;
        }
    }

    private static int consumeFor(String bootstrap, String topic, double duration) {
        Properties config = new Properties();
        config.put("bootstrap.servers", bootstrap);
        config.put("enable.auto.commit", "false");
        config.put("fetch.max.bytes", "52428800");
        config.put("max.partition.fetch.bytes", "1048576");
        // The end of the partition is found by the position check below; a fetch at the end should not wait long.
        config.put("fetch.max.wait.ms", "10");
        config.put("key.deserializer", ByteArrayDeserializer.class.getName());
        config.put("value.deserializer", ByteArrayDeserializer.class.getName());
        config.putAll(extraProperties());
        TopicPartition partition = new TopicPartition(topic, 0);
        long consumed = 0, consumedBytes = 0;
        int seeks = 0;
        String error = "";
        double start = nowSeconds(), firstMessageAt = 0, lastMessageAt = 0, cpuStart = 0, cpuEnd = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            Map<TopicPartition, Long> ends = consumer.endOffsets(List.of(partition), Duration.ofSeconds(30));
            long end = ends.get(partition);
            double deadline = start + 300;
            while (nowSeconds() < deadline && (consumed == 0 || nowSeconds() - firstMessageAt < duration)) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (consumed == 0) {
                        firstMessageAt = nowSeconds();
                        cpuStart = processCpuSeconds();
                    }
                    consumed++;
                    consumedBytes += record.value() == null ? 0 : record.value().length;
                }
                if (consumed > 0 && consumer.position(partition) >= end) {
                    seeks++;
                    consumer.seekToBeginning(List.of(partition));
                }
            }
            lastMessageAt = nowSeconds(); // the rate covers the whole run, seeks included
            cpuEnd = processCpuSeconds();
        } catch (RuntimeException exception) {
            error = String.valueOf(exception).replace("\"", "'");
            lastMessageAt = nowSeconds();
            cpuEnd = processCpuSeconds();
        }
        double cpu = consumed > 0 ? cpuEnd - cpuStart : 0;
        double seconds = lastMessageAt - firstMessageAt;
        if (consumed == 0 || seconds <= 0) seconds = 1e-6;
        System.out.printf(Locale.ROOT, "{\"messages\": %d, \"bytes\": %d, \"seconds\": %.6f, \"startup_seconds\": %.6f, "
                        + "\"seeks\": %d, \"msgs_per_sec\": %.1f, \"mb_per_sec\": %.3f, \"cpu_seconds_timed\": %.3f, "
                        + "\"error\": \"%s\"}%n",
                consumed, consumedBytes, seconds, consumed > 0 ? firstMessageAt - start : 0, seeks,
                consumed / seconds, consumedBytes / seconds / 1e6, cpu, error);
        return error.isEmpty() ? 0 : 1;
    }
}
