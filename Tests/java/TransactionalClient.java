import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka's Java client against portaskd: initTransactions, a committed transaction with sendOffsetsToTransaction
 * for a group member's metadata, offsets refused for a stale generation in an aborted one, and an open one seen
 * through Admin.listTransactions and describeTransactions. Prints one `name=value` line per observation for the
 * test to check. Arguments: bootstrap servers, output topic.
 */
public class TransactionalClient {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        TopicPartition output = new TopicPartition(topic, 0);
        TopicPartition input = new TopicPartition("java-input", 0);
        Properties common = new Properties();
        common.put("bootstrap.servers", bootstrap);
        common.put("request.timeout.ms", "15000");
        common.put("default.api.timeout.ms", "30000");

        Properties producerConfig = (Properties) common.clone();
        producerConfig.put("transactional.id", "java-app");
        producerConfig.put("max.block.ms", "30000");
        producerConfig.put("key.serializer", StringSerializer.class.getName());
        producerConfig.put("value.serializer", StringSerializer.class.getName());
        Properties memberConfig = (Properties) common.clone();
        memberConfig.put("group.id", "java-group");
        memberConfig.put("group.protocol", "classic");
        memberConfig.put("enable.auto.commit", "false");
        memberConfig.put("key.deserializer", StringDeserializer.class.getName());
        memberConfig.put("value.deserializer", StringDeserializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerConfig);
             KafkaConsumer<String, String> member = new KafkaConsumer<>(memberConfig);
             Admin admin = Admin.create(common)) {
            member.subscribe(List.of("java-input"));
            long joinDeadline = System.currentTimeMillis() + 30_000;
            while (member.assignment().isEmpty() && System.currentTimeMillis() < joinDeadline) {
                member.poll(Duration.ofMillis(200));
            }
            ConsumerGroupMetadata group = member.groupMetadata();
            System.out.println("memberGeneration=" + group.generationId());
            producer.initTransactions();
            producer.beginTransaction();
            for (int index = 0; index < 5; index++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + index, "committed-" + index));
            }
            producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(5, "java")), group);
            producer.commitTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "a", "aborted")).get();
            ConsumerGroupMetadata stale = new ConsumerGroupMetadata(
                group.groupId(), group.generationId() + 5, group.memberId(), Optional.empty());
            try {
                producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(9)), stale);
                System.out.println("staleGeneration=accepted");
            } catch (Exception error) {
                System.out.println("staleGeneration=" + error.getClass().getSimpleName());
            }
            producer.abortTransaction();

            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "o", "open")).get();
            Collection<TransactionListing> ongoing = admin.listTransactions(
                new ListTransactionsOptions().filterStates(Set.of(TransactionState.ONGOING))).all().get();
            for (TransactionListing listing : ongoing) {
                System.out.println("listed=" + listing.transactionalId() + "," + listing.state());
            }
            TransactionDescription open = admin.describeTransactions(List.of("java-app")).all().get().get("java-app");
            System.out.println("describedState=" + open.state());
            System.out.println("describedPartitions=" + open.topicPartitions());
            System.out.println("describedTimeoutMs=" + open.transactionTimeoutMs());
            System.out.println("describedStarted=" + open.transactionStartTimeMs().isPresent());
            producer.commitTransaction();
            TransactionDescription done = admin.describeTransactions(List.of("java-app")).all().get().get("java-app");
            System.out.println("afterCommitState=" + done.state());
            Map<TopicPartition, OffsetAndMetadata> offsets =
                admin.listConsumerGroupOffsets("java-group").partitionsToOffsetAndMetadata().get();
            System.out.println("groupOffset=" + offsets.get(input).offset());
        }

        Properties consumerConfig = (Properties) common.clone();
        consumerConfig.put("isolation.level", "read_committed");
        consumerConfig.put("enable.auto.commit", "false");
        consumerConfig.put("key.deserializer", StringDeserializer.class.getName());
        consumerConfig.put("value.deserializer", StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerConfig)) {
            consumer.assign(List.of(output));
            consumer.seekToBeginning(List.of(output));
            long deadline = System.currentTimeMillis() + 20_000;
            while (values.size() < 6 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        System.out.println("readCommitted=" + String.join(",", values));
    }
}
