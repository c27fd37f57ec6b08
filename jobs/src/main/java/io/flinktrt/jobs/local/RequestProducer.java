package io.flinktrt.jobs.local;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.wire.AvroCodec;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

/** Sends requests to the input topic, optionally at a fixed rate (an open-loop load). */
public final class RequestProducer implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    private final AtomicLong failedSends = new AtomicLong();

    public RequestProducer(Properties client, String topic) {
        Properties config = (Properties) client.clone();
        config.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(4 << 20));
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(256L << 20));
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(32 << 20));
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
    }

    public void send(InferenceRequest request) {
        sendRaw(request.getId(), codec.encode(request));
    }

    /** Sends any bytes as a request value: how the tools and tests push bad input. */
    public void sendRaw(String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value),
                (metadata, error) -> {
                    if (error != null) {
                        failedSends.incrementAndGet();
                        System.err.println("send failed: " + error.getMessage());
                    }
                });
    }

    /** Sends the broker did not acknowledge (each was reported on stderr); final after {@link #flush}. */
    public long failedSends() {
        return failedSends.get();
    }

    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
    }
}
