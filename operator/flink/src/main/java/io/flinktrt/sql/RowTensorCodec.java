package io.flinktrt.sql;

import io.flinktrt.backend.BatchBuffers;
import io.flinktrt.backend.DataTypes;
import io.flinktrt.backend.ModelSignature;
import io.flinktrt.batching.BatchInfo;
import io.flinktrt.schema.DataType;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns a row's INPUT columns into one sample per input tensor, and a row of the batch's outputs
 * into the model's OUTPUT columns, as bound by {@link ModelBinding}. Inputs are converted and
 * checked when the row arrives ({@link #prepare}), so a bad row never reaches a batch; the copy
 * into the batch buffers is then a plain memory copy.
 */
final class RowTensorCodec implements PredictCodec<ByteBuffer[]> {

    private static final long serialVersionUID = 1L;

    private final ModelBinding binding;
    private final boolean rejectNonFinite;

    RowTensorCodec(ModelBinding binding, boolean rejectNonFinite) {
        this.binding = binding;
        this.rejectNonFinite = rejectNonFinite;
    }

    @Override
    public PlannedColumns columns() {
        return binding;
    }

    /** Nothing to ready: rows are converted when they arrive. */
    @Override
    public void open(ModelSignature opened) {}

    /** One little-endian sample per model input (signature order), or why the row cannot run. */
    @Override
    public ByteBuffer[] prepare(RowData row) throws BadRowException {
        ByteBuffer[] samples = new ByteBuffer[binding.signature().inputs().size()];
        for (ColumnBinding column : binding.inputs()) {
            samples[column.tensorIndex()] = sample(row, column);
        }
        return samples;
    }

    /** Copies a prepared row into row {@code row} of the batch's input buffers. */
    @Override
    public void putRow(ByteBuffer[] samples, BatchBuffers buffers, int row) {
        for (int i = 0; i < samples.length; i++) {
            buffers.input(i).put(row * samples[i].capacity(), samples[i], 0, samples[i].capacity());
        }
    }

    /**
     * Row {@code row} of the batch's outputs as the model's OUTPUT columns (the error column null).
     */
    @Override
    public RowData readRow(ByteBuffer[] samples, BatchBuffers buffers, int row, BatchInfo batch) {
        GenericRowData out = new GenericRowData(binding.outputArity());
        for (ColumnBinding column : binding.outputs()) {
            ByteBuffer output =
                    buffers.output(column.tensorIndex()).duplicate().order(ByteOrder.LITTLE_ENDIAN);
            out.setField(column.position(), value(output, column.offset(row), column));
        }
        return out;
    }

    private ByteBuffer sample(RowData row, ColumnBinding column) throws BadRowException {
        if (row.isNullAt(column.position())) {
            throw new BadRowException("INPUT column '" + column.column() + "' is null");
        }
        int bytes = column.tensor().sampleBytes();
        ByteBuffer sample = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        DataType dtype = column.tensor().dtype();
        try {
            put(row, column, sample, bytes, dtype);
        } catch (ClassCastException e) { // ML_PREDICT passes a castable column's values uncast
            throw new BadRowException(
                    "INPUT column '"
                            + column.column()
                            + "' holds a value of another type than the"
                            + " model's "
                            + column.type().asSummaryString()
                            + " ("
                            + e.getMessage()
                            + "); declare the table"
                            + " column as "
                            + column.type().asSummaryString());
        }
        return sample;
    }

    private void put(
            RowData row, ColumnBinding column, ByteBuffer sample, int bytes, DataType dtype)
            throws BadRowException {
        switch (column.form()) {
            case BYTES -> {
                byte[] raw = row.getBinary(column.position());
                if (raw.length != bytes) {
                    throw new BadRowException(
                            "INPUT column '"
                                    + column.column()
                                    + "' has "
                                    + raw.length
                                    + " bytes; tensor '"
                                    + column.tensor().name()
                                    + "' ("
                                    + column.tensor()
                                    + ") takes "
                                    + bytes
                                    + " per row");
                }
                sample.put(raw).flip();
                if (rejectNonFinite && DataTypes.isFloatingPoint(dtype)) {
                    checkFinite(sample, column);
                }
            }
            case SCALAR -> putScalar(row, column, sample);
            case ARRAY -> putArray(row.getArray(column.position()), column, sample);
        }
    }

    private void putScalar(RowData row, ColumnBinding column, ByteBuffer sample)
            throws BadRowException {
        int p = column.position();
        switch (column.tensor().dtype()) {
            case FLOAT32 -> sample.putFloat(0, finite(row.getFloat(p), column, 0));
            case INT32 -> sample.putInt(0, row.getInt(p));
            case INT64 -> sample.putLong(0, row.getLong(p));
            case INT8 -> sample.put(0, row.getByte(p));
            case BOOL -> sample.put(0, (byte) (row.getBoolean(p) ? 1 : 0));
            default -> throw new IllegalStateException("bound at planning: " + column);
        }
    }

    private void putArray(ArrayData array, ColumnBinding column, ByteBuffer sample)
            throws BadRowException {
        long elements = column.tensor().sampleElements();
        if (array.size() != elements) {
            throw new BadRowException(
                    "INPUT column '"
                            + column.column()
                            + "' has "
                            + array.size()
                            + " elements; tensor '"
                            + column.tensor().name()
                            + "' ("
                            + column.tensor()
                            + ") takes "
                            + elements
                            + " per row");
        }
        for (int i = 0; i < array.size(); i++) {
            if (array.isNullAt(i)) {
                throw new BadRowException(
                        "INPUT column '" + column.column() + "' has a null at element " + i);
            }
            switch (column.tensor().dtype()) {
                case FLOAT32 -> sample.putFloat(i * 4, finite(array.getFloat(i), column, i));
                case INT32 -> sample.putInt(i * 4, array.getInt(i));
                case INT64 -> sample.putLong(i * 8, array.getLong(i));
                case INT8 -> sample.put(i, array.getByte(i));
                case BOOL -> sample.put(i, (byte) (array.getBoolean(i) ? 1 : 0));
                default -> throw new IllegalStateException("bound at planning: " + column);
            }
        }
    }

    private float finite(float value, ColumnBinding column, int element) throws BadRowException {
        if (rejectNonFinite && !Float.isFinite(value)) {
            throw nonFinite(column, element);
        }
        return value;
    }

    /** NaN and Inf are the values whose exponent bits are all ones. */
    private static void checkFinite(ByteBuffer sample, ColumnBinding column)
            throws BadRowException {
        DataType dtype = column.tensor().dtype();
        int size = DataTypes.byteSize(dtype);
        int exponent =
                dtype == DataType.FLOAT32
                        ? 0x7F800000
                        : dtype == DataType.FLOAT16 ? 0x7C00 : 0x7F80;
        for (int offset = 0; offset < sample.limit(); offset += size) {
            int bits = size == 4 ? sample.getInt(offset) : sample.getShort(offset);
            if ((bits & exponent) == exponent) {
                throw nonFinite(column, offset / size);
            }
        }
    }

    private static BadRowException nonFinite(ColumnBinding column, int element) {
        return new BadRowException(
                "INPUT column '"
                        + column.column()
                        + "' holds NaN or Inf at element "
                        + element
                        + "; set '"
                        + ModelProviderOptions.REJECT_NON_FINITE.key()
                        + "' = 'false' to let such values through");
    }

    private static Object value(ByteBuffer output, int offset, ColumnBinding column) {
        int elements = (int) column.tensor().sampleElements();
        DataType dtype = column.tensor().dtype();
        return switch (column.form()) {
            case BYTES -> {
                byte[] raw = new byte[column.tensor().sampleBytes()];
                output.get(offset, raw);
                yield raw;
            }
            case SCALAR ->
                    switch (dtype) {
                        case FLOAT32 -> output.getFloat(offset);
                        case INT32 -> output.getInt(offset);
                        case INT64 -> output.getLong(offset);
                        case INT8 -> output.get(offset);
                        case BOOL -> output.get(offset) != 0;
                        default -> throw new IllegalStateException("bound at planning: " + column);
                    };
            case ARRAY ->
                    switch (dtype) {
                        case FLOAT32 -> {
                            float[] values = new float[elements];
                            output.slice(offset, elements * 4)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .asFloatBuffer()
                                    .get(values);
                            yield new GenericArrayData(values);
                        }
                        case INT32 -> {
                            int[] values = new int[elements];
                            output.slice(offset, elements * 4)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .asIntBuffer()
                                    .get(values);
                            yield new GenericArrayData(values);
                        }
                        case INT64 -> {
                            long[] values = new long[elements];
                            output.slice(offset, elements * 8)
                                    .order(ByteOrder.LITTLE_ENDIAN)
                                    .asLongBuffer()
                                    .get(values);
                            yield new GenericArrayData(values);
                        }
                        case INT8 -> {
                            byte[] values = new byte[elements];
                            output.get(offset, values);
                            yield new GenericArrayData(values);
                        }
                        case BOOL -> {
                            boolean[] values = new boolean[elements];
                            for (int i = 0; i < elements; i++) {
                                values[i] = output.get(offset + i) != 0;
                            }
                            yield new GenericArrayData(values);
                        }
                        default -> throw new IllegalStateException("bound at planning: " + column);
                    };
        };
    }
}
