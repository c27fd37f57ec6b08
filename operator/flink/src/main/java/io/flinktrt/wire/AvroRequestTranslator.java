package io.flinktrt.wire;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.image.ImageDecoder;
import io.flinktrt.image.ImageSettings;
import io.flinktrt.image.PendingImage;
import io.flinktrt.operator.InferenceOptions;
import io.flinktrt.operator.InferenceTranslator;
import io.flinktrt.operator.RequestRecord;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.repository.ServedModel;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.InferenceOutcome;
import io.flinktrt.text.PendingText;
import io.flinktrt.text.TextAnswers;
import io.flinktrt.text.TextSettings;
import io.flinktrt.text.TextTokenizer;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Our Kafka wire format: serialized {@code InferenceRequest}s in, {@code InferenceOutcome}s out (a
 * result, or a failure for the dead-letter topic carrying the request's bytes and where it was
 * read). Tensor bytes are read in place from the record and copied once, into the batch. Every
 * outcome fits the limits the sink takes.
 */
@Internal
public final class AvroRequestTranslator
        implements InferenceTranslator<RequestRecord, PendingRequest, InferenceOutcome> {

    private static final long serialVersionUID = 1L;

    private final RequestLimits limits;
    private final TextSettings text;
    private final ImageSettings image;
    private transient ModelSignature signature;
    private transient TextTokenizer tokenizer;
    private transient ImageDecoder images;
    private transient RequestDecoder decoder;
    private transient ResultEncoder encoder;
    private transient Outcomes failures;

    /**
     * {@code text}: how requests carrying text are tokenized and what results answer; {@code
     * image}: how requests carrying an image are decoded.
     */
    public AvroRequestTranslator(RequestLimits limits, TextSettings text, ImageSettings image) {
        this.limits = limits;
        this.text = text;
        this.image = image;
    }

    @Override
    public void open(ModelSignature signature, String backendName) {
        open(
                signature,
                backendName,
                new ServedModel(signature.modelName(), ServedModel.NO_VERSION));
    }

    @Override
    public void open(ModelSignature signature, String backendName, ServedModel model) {
        this.signature = signature;
        try {
            this.tokenizer =
                    text.tokenizes()
                            ? TextTokenizer.open(
                                    text.tokenizerFile(),
                                    signature,
                                    text.maxTextTokens(),
                                    InferenceOptions.MAX_TEXT_TOKENS.key())
                            : null;
            this.encoder =
                    new ResultEncoder(
                            signature,
                            backendName,
                            model,
                            text.answers() ? TextAnswers.open(text, signature) : null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.images = ImageDecoder.open(image, signature);
        this.decoder = new RequestDecoder(signature, limits, encoder, text.tokenizes(), images);
        this.failures = new Outcomes(model, limits.maxFailureBytes());
    }

    @Override
    public String routingKey(PendingRequest pending) {
        return pending.request().id();
    }

    @Override
    public PendingRequest prepare(RequestRecord record, long arrivalNanos)
            throws RequestRejectedException {
        return new PendingRequest(decoder.decode(record.payload()), arrivalNanos);
    }

    @Override
    public void putRow(PendingRequest pending, BatchBuffers buffers, int row) {
        PendingText pendingText = pending.request().text();
        PendingImage pendingImage = pending.request().image();
        if (pendingText != null) {
            tokenizer.putRow(pendingText.tokens(tokenizer), buffers, row);
        } else if (pendingImage != null) {
            images.putRow(pendingImage, buffers, row);
        } else {
            putRow(signature, pending.request(), buffers, row);
        }
    }

    /**
     * Text is tokenized and images decoded as their rows are written: on the copy threads, several
     * cores at once.
     */
    @Override
    public boolean putRowComputes() {
        return text.tokenizes() || images != null;
    }

    /**
     * A text request's tokens (tokenized now, kept for its row and answer); a tensor request its
     * own length, the longest where it fills it.
     */
    @Override
    public int sequenceLength(PendingRequest pending, int longest) {
        PendingText pendingText = pending.request().text();
        if (pendingText != null) {
            return pendingText.tokens(tokenizer).ids().length;
        }
        return pending.request().positions() > 0 ? pending.request().positions() : longest;
    }

    /**
     * Copies one request's inputs into row {@code row} of the batch's input buffers; a sequence
     * input shorter than the row is zero-padded (the buffers hold earlier batches' rows).
     */
    static void putRow(
            ModelSignature signature, DecodedRequest request, BatchBuffers buffers, int row) {
        ByteBuffer[] inputs = request.inputs();
        for (int i = 0; i < inputs.length; i++) {
            int bytes = signature.inputs().get(i).sampleBytes();
            int own = inputs[i].remaining();
            ByteBuffer buffer = buffers.input(i);
            buffer.put(row * bytes, inputs[i], inputs[i].position(), own);
            for (int at = row * bytes + own; at < (row + 1) * bytes; at++) {
                buffer.put(at, (byte) 0);
            }
        }
    }

    @Override
    public InferenceOutcome readRow(
            PendingRequest pending, BatchBuffers buffers, int row, BatchInfo batch) {
        if (pending.request().image() != null) {
            images.checkDecoded(buffers, row);
        }
        return encoder.encode(
                pending, row, buffers, batch.run(), batch.startNanos(), batch.doneNanos());
    }

    @Override
    public InferenceOutcome rejected(RequestRecord record, RequestRejectedException rejection) {
        return failures.failure(
                rejection.requestId(), rejection.code(), rejection.getMessage(), record);
    }

    @Override
    public InferenceOutcome failed(
            RequestRecord record, PendingRequest pending, ErrorCode code, String message) {
        return failures.failure(pending.request().id(), code, message, record);
    }

    @Override
    public TypeInformation<InferenceOutcome> getProducedType() {
        return new AvroTypeInfo<>(InferenceOutcome.class);
    }
}
