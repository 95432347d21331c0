// Produces messages with Sarama's SyncProducer and reads them back with a partition consumer, printing each
// consumed message as a JSON line. The protocol version (and so the message format) is chosen with -version.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/Shopify/sarama"
)

type consumed struct {
	Offset    int64             `json:"offset"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Timestamp int64             `json:"timestamp"`
	Headers   map[string]string `json:"headers"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	topic := flag.String("topic", "sarama", "topic")
	version := flag.String("version", "0.10.0.0", "Kafka version Sarama assumes")
	codec := flag.String("compression", "none", "none, gzip, snappy, lz4 or zstd")
	count := flag.Int("count", 5, "messages to produce")
	baseTimestamp := flag.Int64("timestamp", 1700000000000, "timestamp of the first message (ms)")
	flag.Parse()

	kafkaVersion, err := sarama.ParseKafkaVersion(*version)
	if err != nil {
		log.Fatal(err)
	}
	config := sarama.NewConfig()
	config.Version = kafkaVersion
	config.ClientID = "portask-sarama-test"
	config.Producer.Return.Successes = true
	config.Producer.RequiredAcks = sarama.WaitForAll
	config.Producer.Partitioner = sarama.NewManualPartitioner
	config.Producer.Flush.Messages = *count
	config.Producer.Flush.Frequency = 50 * time.Millisecond
	config.Metadata.Retry.Backoff = 100 * time.Millisecond
	codecs := map[string]sarama.CompressionCodec{
		"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
		"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
	}
	config.Producer.Compression = codecs[*codec]

	producer, err := sarama.NewSyncProducer([]string{*brokers}, config)
	if err != nil {
		log.Fatalf("producer: %v", err)
	}
	var messages []*sarama.ProducerMessage
	for i := 0; i < *count; i++ {
		message := &sarama.ProducerMessage{
			Topic:     *topic,
			Partition: 0,
			Key:       sarama.StringEncoder(fmt.Sprintf("key-%d", i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("value-%d-%s", i, *codec)),
			Timestamp: time.Unix(0, (*baseTimestamp+int64(i))*int64(time.Millisecond)),
		}
		if kafkaVersion.IsAtLeast(sarama.V0_11_0_0) {
			message.Headers = []sarama.RecordHeader{{Key: []byte("h"), Value: []byte(fmt.Sprintf("%d", i))}}
		}
		messages = append(messages, message)
	}
	if err := producer.SendMessages(messages); err != nil {
		log.Fatalf("send: %v", err)
	}
	for i, message := range messages {
		fmt.Fprintf(os.Stderr, "produced %d at offset %d\n", i, message.Offset)
	}
	producer.Close()

	consumer, err := sarama.NewConsumer([]string{*brokers}, config)
	if err != nil {
		log.Fatalf("consumer: %v", err)
	}
	defer consumer.Close()
	partition, err := consumer.ConsumePartition(*topic, 0, sarama.OffsetOldest)
	if err != nil {
		log.Fatalf("consume partition: %v", err)
	}
	defer partition.Close()
	encoder := json.NewEncoder(os.Stdout)
	deadline := time.After(20 * time.Second)
	for received := 0; received < *count; received++ {
		select {
		case message := <-partition.Messages():
			out := consumed{Offset: message.Offset, Timestamp: -1, Headers: map[string]string{}}
			if message.Key != nil {
				key := string(message.Key)
				out.Key = &key
			}
			if message.Value != nil {
				value := string(message.Value)
				out.Value = &value
			}
			if !message.Timestamp.IsZero() && message.Timestamp.Unix() > 0 {
				out.Timestamp = message.Timestamp.UnixNano() / int64(time.Millisecond)
			}
			for _, header := range message.Headers {
				out.Headers[string(header.Key)] = string(header.Value)
			}
			encoder.Encode(out)
		case err := <-partition.Errors():
			log.Fatalf("consume: %v", err)
		case <-deadline:
			log.Fatalf("timed out after %d messages", received)
		}
	}
}
