// Reads messages with a kafka-go 0.2.1 Reader in a consumer group (ReadMessage commits each one), closes the
// reader and prints each message as a JSON line.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

type consumed struct {
	Partition int    `json:"partition"`
	Offset    int64  `json:"offset"`
	Value     string `json:"value"`
}

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "bootstrap broker")
	topic := flag.String("topic", "kafkago-group", "topic")
	group := flag.String("group", "kafkago-group", "consumer group id")
	count := flag.Int("count", 10, "messages to read")
	flag.Parse()

	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           strings.Split(*brokers, ","),
		GroupID:           *group,
		Topic:             *topic,
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           200 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		HeartbeatInterval: time.Second,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	encoder := json.NewEncoder(os.Stdout)
	for i := 0; i < *count; i++ {
		message, err := reader.ReadMessage(ctx)
		if err != nil {
			log.Fatalf("read %d: %v", i, err)
		}
		encoder.Encode(consumed{message.Partition, message.Offset, string(message.Value)})
	}
	if err := reader.Close(); err != nil {
		log.Fatalf("close: %v", err)
	}
}
