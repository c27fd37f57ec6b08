package io.flinktrt.sql;

import io.flinktrt.answer.AnswerOutput;
import io.flinktrt.answer.TopLabels;
import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.image.ImageDecoder;
import io.flinktrt.image.PendingImage;
import io.flinktrt.schema.ErrorCode;

import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An image classifier's rows: the BYTES column is kept as it arrives, decoded when its row is
 * written into the batch (on the GPU where the runner decodes JPEGs, else on the slot's copy
 * threads, {@link #putRowComputes}), and the model's logits read back as the top labels. A bad
 * image fails its row alone, with its code.
 */
final class RowImageCodec implements PredictCodec<PendingImage> {

    private static final long serialVersionUID = 1L;

    private final ImageBinding binding;
    private transient ImageDecoder decoder;
    private transient TopLabels top;
    private transient int output;
    private transient int outputBytes;

    RowImageCodec(ImageBinding binding) {
        this.binding = binding;
    }

    @Override
    public PlannedColumns columns() {
        return binding;
    }

    @Override
    public void open(ModelSignature opened) throws IOException {
        decoder = ImageDecoder.open(binding.settings(), opened);
        output = AnswerOutput.index(opened, binding.answerOutput());
        outputBytes = opened.outputs().get(output).sampleBytes();
        top = TopLabels.open(binding.topK(), binding.labelsFile(), opened.outputs().get(output));
    }

    @Override
    public PendingImage prepare(RowData row) throws BadRowException {
        if (row.isNullAt(0)) {
            throw new BadRowException(
                    RowTextCodec.reason(
                            ErrorCode.INVALID_IMAGE,
                            "INPUT column '" + binding.imageColumn() + "' is null"));
        }
        return new PendingImage(ByteBuffer.wrap(row.getBinary(0)));
    }

    @Override
    public void putRow(PendingImage image, BatchBuffers buffers, int row) {
        decoder.putRow(image, buffers, row);
    }

    @Override
    public boolean putRowComputes() {
        return true;
    }

    @Override
    public RowData readRow(PendingImage image, BatchBuffers buffers, int row, BatchInfo batch) {
        decoder.checkDecoded(buffers, row);
        GenericRowData out = new GenericRowData(binding.outputArity());
        LabelColumns.write(
                top.of(buffers.output(output), row * outputBytes),
                out,
                binding.label(),
                binding.score(),
                binding.labels(),
                binding.scores());
        return out;
    }
}
