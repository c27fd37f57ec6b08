package io.flinktrt.image;

import io.flinktrt.answer.AnswerOutput;
import io.flinktrt.answer.RecordAnswer;
import io.flinktrt.answer.TopLabels;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.operator.InferenceTranslator;
import io.flinktrt.operator.RequestRejectedException;
import io.flinktrt.schema.ErrorCode;
import io.flinktrt.schema.LabelScore;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.function.SerializableFunction;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Runs an image classifier on your own records: each record's JPEG or PNG bytes are decoded into
 * the model's image input ({@link ImageDecoder}), and its first output's logits become the top K
 * labels ({@link ImageAnswer}). Build the function with {@code
 * InferenceFunction.builder().setModel(...).build(new ImageTranslator<>(Photo::jpeg, Photo::id,
 * ImageSettings.DEFAULT, 5, "labels.txt"))}.
 *
 * <p>Images are decoded as their rows are written: baseline JPEGs on the GPU where the runner
 * decodes them (TensorRT with nvJPEG), the rest on the scheduler's copy threads, never on the task
 * thread; a missing, corrupt, unsupported or too large image gets an {@link ImageAnswer} with its
 * error code.
 *
 * @param <IN> your records
 */
@PublicEvolving
public final class ImageTranslator<IN>
        implements InferenceTranslator<IN, ImageTranslator.Pending, ImageAnswer> {

    private static final long serialVersionUID = 1L;

    /** One record waiting for its batch. */
    public record Pending(String id, PendingImage image) {}

    private final SerializableFunction<IN, byte[]> imageOf;
    private final SerializableFunction<IN, String> idOf;
    private final ImageSettings settings;
    private final int topK;
    private final String labelsFile;
    private transient ImageDecoder decoder;
    private transient TopLabels top;
    private transient int output;
    private transient int outputBytes;

    /** {@code labelsFile}: one label per line, in the order of the model's first output. */
    public ImageTranslator(
            SerializableFunction<IN, byte[]> imageOf,
            SerializableFunction<IN, String> idOf,
            ImageSettings settings,
            int topK,
            String labelsFile) {
        if (topK <= 0 || labelsFile == null) {
            throw new IllegalArgumentException(
                    "An ImageTranslator answers with the top K > 0 labels of a labels file.");
        }
        this.imageOf = imageOf;
        this.idOf = idOf;
        this.settings = settings;
        this.topK = topK;
        this.labelsFile = labelsFile;
    }

    @Override
    public void open(ModelSignature signature, String backendName) {
        decoder = ImageDecoder.open(settings, signature);
        if (decoder == null || signature.inputs().size() != 1) {
            throw new IllegalArgumentException(
                    "An ImageTranslator feeds a model whose only input is an image (uint8 [batch,"
                            + " height, width, 3] or float32 [batch, 3, height, width]); its inputs: "
                            + signature.inputs());
        }
        output = AnswerOutput.index(signature, null);
        outputBytes = signature.outputs().get(output).sampleBytes();
        try {
            top = TopLabels.open(topK, labelsFile, signature.outputs().get(output));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String routingKey(Pending prepared) {
        return prepared.id();
    }

    @Override
    public Pending prepare(IN input, long arrivalNanos) throws RequestRejectedException {
        byte[] image = imageOf.apply(input);
        if (image == null) {
            throw new RequestRejectedException(
                    ErrorCode.INVALID_IMAGE, "The record carries no image.");
        }
        return new Pending(idOf.apply(input), new PendingImage(ByteBuffer.wrap(image)));
    }

    @Override
    public void putRow(Pending record, BatchBuffers buffers, int row) {
        decoder.putRow(record.image(), buffers, row);
    }

    @Override
    public boolean putRowComputes() {
        return true;
    }

    @Override
    public ImageAnswer readRow(Pending record, BatchBuffers buffers, int row, BatchInfo batch) {
        decoder.checkDecoded(buffers, row);
        List<LabelScore> labels = top.of(buffers.output(output), row * outputBytes);
        ImageAnswer out = new ImageAnswer();
        out.id = record.id();
        out.setTop(labels);
        return out;
    }

    @Override
    public ImageAnswer rejected(IN input, RequestRejectedException rejection) {
        return RecordAnswer.failure(
                new ImageAnswer(), idOf.apply(input), rejection.code(), rejection.getMessage());
    }

    @Override
    public ImageAnswer failed(IN input, Pending prepared, ErrorCode code, String message) {
        return RecordAnswer.failure(new ImageAnswer(), prepared.id(), code, message);
    }

    @Override
    public TypeInformation<ImageAnswer> getProducedType() {
        return TypeInformation.of(ImageAnswer.class);
    }
}
