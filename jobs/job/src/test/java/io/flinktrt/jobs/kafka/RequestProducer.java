package io.flinktrt.jobs.kafka;

import io.flinktrt.schema.InferenceRequest;
import io.flinktrt.wire.AvroCodec;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/** Sends requests to the input topic, optionally at a fixed rate (an open-loop load). */
public final class RequestProducer implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final AvroCodec<InferenceRequest> codec = new AvroCodec<>(InferenceRequest.class);
    private final AtomicLong failedSends = new AtomicLong();

    public RequestProducer(Properties client, String topic) {
        Properties config = (Properties) client.clone();
        // Unless the user set them: no linger (Kafka 4 waits 5 ms for a batch to fill by default; a
        // request should leave at once, and batches still form while a send is in flight); batches
        // of
        // about one image (a 4 MB batch made each produce request carry 6 images, and the broker's
        // per-request time grew faster than its size: 16 ms for 3.6 MB, 2 ms for 0.6 MB, so fewer
        // MB/s);
        // the OS's TCP buffer autotuning instead of a fixed 128 KB send buffer.
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "0");
        config.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(1 << 20));
        config.putIfAbsent(ProducerConfig.SEND_BUFFER_CONFIG, "-1");
        config.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(256L << 20));
        config.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(32 << 20));
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        this.producer =
                new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
    }

    /** Sends a request keyed by its id; the future tells where it landed. */
    public Future<RecordMetadata> send(InferenceRequest request) {
        return sendRaw(request.getId(), codec.encode(request));
    }

    /** Sends any bytes as a request value: how the tools and tests push bad input. */
    public Future<RecordMetadata> sendRaw(String key, byte[] value) {
        return producer.send(
                new ProducerRecord<>(
                        topic, key == null ? null : key.getBytes(StandardCharsets.UTF_8), value),
                (metadata, error) -> {
                    if (error != null) {
                        failedSends.incrementAndGet();
                        System.err.println("send failed: " + error.getMessage());
                    }
                });
    }

    /**
     * Sends the broker did not acknowledge (each was reported on stderr); final after {@link
     * #flush}.
     */
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
