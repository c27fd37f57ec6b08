package io.flinktrt.wire;

import io.flinktrt.operator.RequestRecord;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceFailure;
import io.flinktrt.schema.InferenceOutcome;

import org.apache.flink.annotation.Internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Builds the failure outcomes for the dead-letter topic, each cut to what the topic takes: a
 * failure echoes its request, so one for a request near the size limit would not fit, and a sink
 * that cannot write a record fails the job. Thread-safe: failures come from the task thread
 * (rejections, timeouts) and the batch threads (backend errors).
 */
@Internal
public final class Outcomes {

    /**
     * Messages name tensors from the request: cut, so that a hostile name cannot fill the record.
     */
    static final int MAX_MESSAGE_CHARS = 1000;

    /**
     * Room for everything but the id and payload: code, a cut message, model name, source topic.
     */
    public static final int MIN_FAILURE_BYTES = 16 << 10;

    private final ServedModel model;
    private final int maxFailureBytes;
    private final AvroCodec<InferenceFailure> codec = new AvroCodec<>(InferenceFailure.class);

    Outcomes(ServedModel model, int maxFailureBytes) {
        this.model = model;
        this.maxFailureBytes = maxFailureBytes;
    }

    /**
     * The failure of {@code request} ({@code id} null when it did not decode). When the whole of it
     * would not fit, it keeps the payload's first bytes (and, for an id longer than the topic
     * takes, the id's), and says so with {@code truncated}.
     */
    InferenceOutcome failure(String id, ErrorCode code, String message, RequestRecord request) {
        byte[] payload = request.payload();
        InferenceFailure failure =
                InferenceFailure.newBuilder()
                        .setId(id)
                        .setCode(code)
                        .setMessage(
                                message.length() > MAX_MESSAGE_CHARS
                                        ? message.substring(0, MAX_MESSAGE_CHARS) + "..."
                                        : message)
                        .setModel(model.name())
                        .setModelVersion(model.versioned() ? model.version() : null)
                        .setPayload(ByteBuffer.wrap(payload))
                        .setPayloadSize(payload.length)
                        .setSource(request.source())
                        .build();
        if (payload.length
                        + AvroSizes.ofLong(payload.length)
                        + MIN_FAILURE_BYTES
                        + (id == null ? 0 : AvroSizes.ofString(id))
                > maxFailureBytes) {
            cut(failure, payload);
        }
        return new InferenceOutcome(failure);
    }

    /**
     * Keeps as much of the payload as fits, after cutting the id if even an empty payload would not
     * fit.
     */
    private synchronized void cut(InferenceFailure failure, byte[] payload) {
        failure.setPayload(ByteBuffer.allocate(0));
        long rest = codec.encode(failure).length - 1; // all but the payload's length byte
        String id = failure.getId();
        if (id != null && rest + 1 > maxFailureBytes) {
            long idBytes = AvroSizes.ofString(id);
            String cutId =
                    prefix(
                            id,
                            maxFailureBytes
                                    - 1
                                    - (rest - idBytes)
                                    - 5); // 5: the largest length of a cut id
            failure.setId(cutId);
            rest += AvroSizes.ofString(cutId) - idBytes;
        }
        long room = maxFailureBytes - rest;
        int kept = (int) Math.min(payload.length, Math.max(0, room - 1));
        while (kept > 0 && AvroSizes.ofLong(kept) + kept > room) {
            kept--;
        }
        failure.setPayload(ByteBuffer.wrap(payload, 0, kept).slice());
        failure.setTruncated(kept < payload.length || !Objects.equals(failure.getId(), id));
    }

    /**
     * The longest prefix of {@code value} of at most {@code bytes} UTF-8 bytes, cut between
     * characters.
     */
    private static String prefix(String value, long bytes) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        int end = (int) Math.max(0, Math.min(utf8.length, bytes));
        while (end > 0
                && end < utf8.length
                && (utf8[end] & 0xC0)
                        == 0x80) { // a continuation byte: back to the character's start
            end--;
        }
        return new String(utf8, 0, end, StandardCharsets.UTF_8);
    }
}
