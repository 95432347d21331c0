// Writes messages with kafka-go's Writer and reads them back with a Reader on partition 0, printing each
// message as a JSON line. kafka-go 0.2.1 speaks Produce v2 and Fetch v2 (message format v1).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

type consumed struct {
	Offset    int64  `json:"offset"`
	Key       string `json:"key"`
	Value     string `json:"value"`
	Timestamp int64  `json:"timestamp"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	topic := flag.String("topic", "kafkago", "topic")
	codec := flag.String("compression", "none", "none, gzip, snappy or lz4")
	count := flag.Int("count", 5, "messages to write")
	baseTimestamp := flag.Int64("timestamp", 1700000000000, "timestamp of the first message (ms)")
	flag.Parse()

	codecs := map[string]kafka.CompressionCodec{
		"none": nil, "gzip": gzip.NewCompressionCodec(), "snappy": snappy.NewCompressionCodec(),
		"lz4": lz4.NewCompressionCodec(),
	}
	writer := kafka.NewWriter(kafka.WriterConfig{
		Brokers:          []string{*brokers},
		Topic:            *topic,
		Balancer:         &kafka.LeastBytes{},
		BatchSize:        *count,
		BatchTimeout:     50 * time.Millisecond,
		CompressionCodec: codecs[*codec],
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var messages []kafka.Message
	for i := 0; i < *count; i++ {
		messages = append(messages, kafka.Message{
			Key:   []byte(fmt.Sprintf("key-%d", i)),
			Value: []byte(fmt.Sprintf("value-%d-%s", i, *codec)),
			Time:  time.Unix(0, (*baseTimestamp+int64(i))*int64(time.Millisecond)),
		})
	}
	if err := writer.WriteMessages(ctx, messages...); err != nil {
		log.Fatalf("write: %v", err)
	}
	writer.Close()

	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   []string{*brokers},
		Topic:     *topic,
		Partition: 0,
		MinBytes:  1,
		MaxBytes:  1 << 20,
		MaxWait:   200 * time.Millisecond,
	})
	defer reader.Close()
	if err := reader.SetOffset(0); err != nil {
		log.Fatalf("set offset: %v", err)
	}
	encoder := json.NewEncoder(os.Stdout)
	for i := 0; i < *count; i++ {
		message, err := reader.ReadMessage(ctx)
		if err != nil {
			log.Fatalf("read after %d messages: %v", i, err)
		}
		encoder.Encode(consumed{
			Offset: message.Offset, Key: string(message.Key), Value: string(message.Value),
			Timestamp: message.Time.UnixNano() / int64(time.Millisecond),
		})
	}
}
