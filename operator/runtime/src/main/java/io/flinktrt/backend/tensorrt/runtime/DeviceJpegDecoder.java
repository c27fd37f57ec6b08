package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.TensorSpec;
import io.flinktrt.backend.tensorrt.gpu.Cuda;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nppc;
import org.bytedeco.cuda.global.nppial;
import org.bytedeco.cuda.global.nppidei;
import org.bytedeco.cuda.global.nppig;
import org.bytedeco.cuda.global.nvjpeg;
import org.bytedeco.cuda.nppc.NppStreamContext;
import org.bytedeco.cuda.nppc.NppiRect;
import org.bytedeco.cuda.nppc.NppiSize;
import org.bytedeco.cuda.nvjpeg.nvjpegHandle;
import org.bytedeco.cuda.nvjpeg.nvjpegImage_t;
import org.bytedeco.cuda.nvjpeg.nvjpegJpegState;
import org.bytedeco.cuda.nvjpeg.nvjpegJpegStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a batch's JPEGs on a lane's stream and writes them, resized, into the engine's image
 * input: nvJPEG's batched decode (the hardware JPEG decoder where the GPU has one, as the H100 and
 * H200 do; its GPU backend otherwise) into RGB, NPP's bilinear resize into the row (uint8 [H, W,
 * 3]), or into a staging batch that NPP converts to float, scales and splits into planes (float32
 * [3, H, W]). A JPEG the hardware decoder does not take, or a batch it fails, is decoded one image
 * at a time by nvJPEG's default backend. One per lane, started when the runner opens; used by the
 * lane's thread only.
 */
final class DeviceJpegDecoder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeviceJpegDecoder.class);

    /** Decoded pixels of one batched decode at most: larger batches decode in groups. */
    private static final long GROUP_BYTES = 256L << 20;

    private static final long ALIGN = 256;

    private final CUstream_st stream;
    private final nvjpegHandle batchedHandle = new nvjpegHandle();
    private final nvjpegJpegState batchedState = new nvjpegJpegState();
    private final nvjpegHandle singleHandle = new nvjpegHandle();
    private final nvjpegJpegState singleState = new nvjpegJpegState();
    private final nvjpegJpegStream parsed = new nvjpegJpegStream();
    private final NppStreamContext npp = new NppStreamContext();
    private final IntPointer width = new IntPointer(1);
    private final IntPointer height = new IntPointer(1);
    private final IntPointer unsupported = new IntPointer(1);
    private final NppiSize fromSize = new NppiSize();
    private final NppiRect fromRect = new NppiRect();
    private final NppiSize toSize = new NppiSize();
    private final NppiRect toRect = new NppiRect();
    private final boolean hardware;
    private boolean batchedCreated;
    private boolean batchedStateCreated;
    private boolean singleCreated;
    private boolean singleStateCreated;
    private boolean parsedCreated;
    private int initializedBatch;
    private BytePointer bitstreams = new BytePointer((Pointer) null);
    private long bitstreamBytes;
    private final DeviceArena decoded = new DeviceArena("decoded JPEGs");
    private final DeviceArena staging = new DeviceArena("resized images");
    private final DeviceArena floats = new DeviceArena("images as float");
    private final DeviceArena turns = new DeviceArena("images to turn upright");

    /** One JPEG of the batch: its row, where its bytes sit, its size, where it decodes to. */
    private record Image(int row, long at, long bytes, int width, int height, boolean batched) {
        long pixelBytes() {
            return align((long) width * height * 3);
        }
    }

    /**
     * {@code tryHardware}: the hardware decoder where the GPU has one, else nvJPEG's GPU backend.
     */
    DeviceJpegDecoder(CUstream_st stream, int device, boolean tryHardware) throws BackendException {
        this.stream = stream;
        try {
            hardware =
                    tryHardware
                            && nvjpeg.nvjpegCreateEx(
                                            nvjpeg.NVJPEG_BACKEND_HARDWARE,
                                            null,
                                            null,
                                            0,
                                            batchedHandle)
                                    == nvjpeg.NVJPEG_STATUS_SUCCESS;
            if (!hardware) { // not asked for, or no hardware JPEG decoder on this GPU
                check(
                        nvjpeg.nvjpegCreateEx(
                                nvjpeg.NVJPEG_BACKEND_GPU_HYBRID, null, null, 0, batchedHandle),
                        "nvjpegCreateEx(GPU_HYBRID)");
            }
            batchedCreated = true;
            check(
                    nvjpeg.nvjpegJpegStateCreate(batchedHandle, batchedState),
                    "nvjpegJpegStateCreate");
            batchedStateCreated = true;
            check(
                    nvjpeg.nvjpegCreateEx(
                            nvjpeg.NVJPEG_BACKEND_DEFAULT, null, null, 0, singleHandle),
                    "nvjpegCreateEx(DEFAULT)");
            singleCreated = true;
            check(nvjpeg.nvjpegJpegStateCreate(singleHandle, singleState), "nvjpegJpegStateCreate");
            singleStateCreated = true;
            check(nvjpeg.nvjpegJpegStreamCreate(batchedHandle, parsed), "nvjpegJpegStreamCreate");
            parsedCreated = true;
            describeStream(device);
            LOG.info(
                    "JPEGs of this lane decode on {}",
                    hardware ? "the GPU's hardware JPEG decoder" : "nvJPEG's GPU backend");
        } catch (BackendException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Fills NPP's stream context with the lane's stream and the device's attributes, as CUDA 12's
     * {@code nppGetStreamContext} would for the current stream (CUDA 13 removed it).
     */
    private void describeStream(int device) throws BackendException {
        try (IntPointer value = new IntPointer(1)) {
            Cuda.check(cudart.cudaStreamGetFlags(stream, value), "cudaStreamGetFlags");
            npp.hStream(stream).nStreamFlags(value.get()).nCudaDeviceId(device);
            npp.nMultiProcessorCount(
                            attribute(value, cudart.cudaDevAttrMultiProcessorCount, device))
                    .nMaxThreadsPerMultiProcessor(
                            attribute(value, cudart.cudaDevAttrMaxThreadsPerMultiProcessor, device))
                    .nMaxThreadsPerBlock(
                            attribute(value, cudart.cudaDevAttrMaxThreadsPerBlock, device))
                    .nSharedMemPerBlock(
                            attribute(value, cudart.cudaDevAttrMaxSharedMemoryPerBlock, device))
                    .nCudaDevAttrComputeCapabilityMajor(
                            attribute(value, cudart.cudaDevAttrComputeCapabilityMajor, device))
                    .nCudaDevAttrComputeCapabilityMinor(
                            attribute(value, cudart.cudaDevAttrComputeCapabilityMinor, device));
        }
    }

    private static int attribute(IntPointer value, int attribute, int device)
            throws BackendException {
        Cuda.check(
                cudart.cudaDeviceGetAttribute(value, attribute, device),
                "cudaDeviceGetAttribute(" + attribute + ")");
        return value.get();
    }

    /**
     * Decodes the JPEGs of rows {@code first} to {@code first + count} of {@code rows} into rows 0
     * to {@code count} of {@code target} (the engine's input on the device), enqueued on the
     * stream. A JPEG that cannot be decoded is recorded as its row's failure; the rest go on.
     */
    void decode(EncodedRows rows, int first, int count, Pointer target) throws BackendException {
        List<Image> images = read(rows, first, count);
        if (images.isEmpty()) {
            return;
        }
        long largest = images.stream().mapToLong(Image::pixelBytes).max().orElse(0);
        decoded.ensure(Math.max(largest, Math.min(GROUP_BYTES, sum(images))));
        BytePointer into;
        if (rows.channelsFirst) {
            staging.ensure((long) count * rows.width * rows.height * 3);
            into = staging.at(0);
        } else {
            into = new BytePointer(target);
        }
        List<Image> group = new ArrayList<>();
        long groupBytes = 0;
        for (Image image : images) {
            if (!image.batched()) {
                single(rows, first, image, into);
                continue;
            }
            if (groupBytes + image.pixelBytes() > decoded.capacity()) {
                batched(rows, first, group, into);
                group.clear();
                groupBytes = 0;
            }
            group.add(image);
            groupBytes += image.pixelBytes();
        }
        batched(rows, first, group, into);
        if (rows.channelsFirst) {
            normalize(rows, first, images, count, target);
        }
    }

    /**
     * Copies the JPEGs into host memory nvJPEG reads and parses each header once (the size the
     * decoded image takes, whether the batched decoder takes it); a header nvJPEG refuses fails its
     * row.
     */
    private List<Image> read(EncodedRows rows, int first, int count) throws BackendException {
        long total = 0;
        for (int r = first; r < first + count; r++) {
            ByteBuffer jpeg = rows.jpeg(r);
            total += jpeg == null ? 0 : jpeg.remaining();
        }
        if (total > bitstreamBytes) {
            bitstreams.close();
            bitstreamBytes = Math.max(total, 2 * bitstreamBytes);
            bitstreams = new BytePointer(bitstreamBytes);
        }
        ByteBuffer host = bitstreams.position(0).limit(bitstreamBytes).asByteBuffer();
        List<Image> images = new ArrayList<>();
        long at = 0;
        for (int r = first; r < first + count; r++) {
            ByteBuffer jpeg = rows.jpeg(r);
            if (jpeg == null) {
                continue;
            }
            int bytes = jpeg.remaining();
            host.put((int) at, jpeg, jpeg.position(), bytes);
            BytePointer data = bitstream(at);
            int rc = nvjpeg.nvjpegJpegStreamParseHeader(batchedHandle, data, bytes, parsed);
            if (rc == nvjpeg.NVJPEG_STATUS_SUCCESS) {
                rc = nvjpeg.nvjpegJpegStreamGetFrameDimensions(parsed, width, height);
            }
            if (rc != nvjpeg.NVJPEG_STATUS_SUCCESS) {
                rows.fail(r, "nvJPEG could not read the JPEG's header (status " + rc + ").");
            } else {
                images.add(new Image(r, at, bytes, width.get(), height.get(), batchable()));
            }
            at += bytes;
        }
        return images;
    }

    /**
     * The least device memory the decoder takes for {@code maxBatch} images of {@code spec}'s size
     * (photos are seldom smaller): their decoded pixels, and for a float input the resized pixels
     * and their floats; 0 for an input that is not an image.
     */
    static long leastBytes(TensorSpec spec, int maxBatch) {
        EncodedRows shape = EncodedRows.forInput(spec, 1);
        if (shape == null) {
            return 0;
        }
        long pixels = (long) maxBatch * shape.width * shape.height * 3;
        return shape.channelsFirst ? pixels * (2 + Float.BYTES) : pixels;
    }

    /**
     * Whether the batched decoder takes the JPEG just parsed (the hardware one does not take every
     * kind).
     */
    private boolean batchable() {
        return !hardware
                || (nvjpeg.nvjpegDecodeBatchedSupported(batchedHandle, parsed, unsupported)
                                == nvjpeg.NVJPEG_STATUS_SUCCESS
                        && unsupported.get() == 0);
    }

    /** One batched decode of {@code group} into the decoded arena, then each resized. */
    private void batched(EncodedRows rows, int first, List<Image> group, BytePointer into)
            throws BackendException {
        if (group.isEmpty()) {
            return;
        }
        int n = group.size();
        if (n != initializedBatch) {
            check(
                    nvjpeg.nvjpegDecodeBatchedInitialize(
                            batchedHandle, batchedState, n, 1, nvjpeg.NVJPEG_OUTPUT_RGBI),
                    "nvjpegDecodeBatchedInitialize(" + n + ")");
            initializedBatch = n;
        }
        try (PointerPointer<BytePointer> data = new PointerPointer<>(n);
                SizeTPointer lengths = new SizeTPointer(n);
                nvjpegImage_t outputs = new nvjpegImage_t(n)) {
            long offset = 0;
            long[] offsets = new long[n];
            for (int i = 0; i < n; i++) {
                Image image = group.get(i);
                data.put(i, bitstream(image.at()));
                lengths.put(i, image.bytes());
                offsets[i] = offset;
                outputs.position(i)
                        .channel(0, decoded.at(offset))
                        .pitch(0, (long) image.width() * 3);
                offset += image.pixelBytes();
            }
            outputs.position(0);
            int rc =
                    nvjpeg.nvjpegDecodeBatched(
                            batchedHandle, batchedState, data, lengths, outputs, stream);
            for (int i = 0; i < n; i++) {
                Image image = group.get(i);
                if (rc == nvjpeg.NVJPEG_STATUS_SUCCESS) {
                    resize(rows, first, image, decoded.at(offsets[i]), into);
                } else { // one bad JPEG fails the whole call: decode each alone
                    single(rows, first, image, into);
                }
            }
        }
    }

    /** Decodes one JPEG with nvJPEG's default backend, then resizes it. */
    private void single(EncodedRows rows, int first, Image image, BytePointer into)
            throws BackendException {
        decoded.ensure(image.pixelBytes());
        try (nvjpegImage_t output = new nvjpegImage_t()) {
            output.channel(0, decoded.at(0)).pitch(0, (long) image.width() * 3);
            int rc =
                    nvjpeg.nvjpegDecode(
                            singleHandle,
                            singleState,
                            bitstream(image.at()),
                            image.bytes(),
                            nvjpeg.NVJPEG_OUTPUT_RGBI,
                            output,
                            stream);
            if (rc != nvjpeg.NVJPEG_STATUS_SUCCESS) {
                rows.fail(image.row(), "nvJPEG could not decode the JPEG (status " + rc + ").");
                return;
            }
            resize(rows, first, image, decoded.at(0), into);
        }
    }

    /**
     * Writes the decoded image into its row of {@code into}: resized to the input's size, then
     * turned upright as its EXIF orientation says (bilinear resizing with half-pixel centres
     * commutes with mirroring and transposing, so this equals the CPU decoder's turn-then-resize).
     */
    private void resize(
            EncodedRows rows, int first, Image image, BytePointer from, BytePointer into)
            throws BackendException {
        long rowBytes = (long) rows.width * rows.height * 3;
        BytePointer to =
                new BytePointer(into).position(into.position() + (image.row() - first) * rowBytes);
        int orientation = rows.orientation(image.row());
        if (orientation <= 1 || orientation > 8) {
            scale(from, image.width(), image.height(), to, rows.width, rows.height);
            return;
        }
        turns.ensure(2 * rowBytes);
        boolean transposed = orientation >= 5; // stored on its side: resize to the swapped size
        int w = transposed ? rows.height : rows.width;
        int h = transposed ? rows.width : rows.height;
        BytePointer resized = turns.at(0);
        scale(from, image.width(), image.height(), resized, w, h);
        BytePointer toMirror = resized;
        if (transposed) {
            BytePointer turned = orientation == 5 ? to : turns.at(rowBytes);
            fromSize.width(w).height(h);
            nppCheck(
                    nppidei.nppiTranspose_8u_C3R_Ctx(resized, w * 3, turned, h * 3, fromSize, npp),
                    "nppiTranspose_8u_C3R");
            if (orientation == 5) {
                return;
            }
            toMirror = turned;
        }
        toSize.width(rows.width).height(rows.height);
        nppCheck(
                nppig.nppiMirror_8u_C3R_Ctx(
                        toMirror,
                        rows.width * 3,
                        to,
                        rows.width * 3,
                        toSize,
                        mirrorAxis(orientation),
                        npp),
                "nppiMirror_8u_C3R");
    }

    /**
     * The flip that is left once a transposed orientation is transposed: 2 and 6 left-right, 4 and
     * 8 upside down, 3 and 7 both (NPP names the axis flipped around).
     */
    private static int mirrorAxis(int orientation) {
        return switch (orientation) {
            case 2, 6 -> nppc.NPP_VERTICAL_AXIS;
            case 4, 8 -> nppc.NPP_HORIZONTAL_AXIS;
            default -> nppc.NPP_BOTH_AXIS;
        };
    }

    /** Resizes {@code from} (w x h) into {@code to} (toWidth x toHeight), or copies it. */
    private void scale(BytePointer from, int w, int h, BytePointer to, int toWidth, int toHeight)
            throws BackendException {
        if (w == toWidth && h == toHeight) {
            Cuda.check(
                    cudart.cudaMemcpyAsync(
                            to, from, (long) w * h * 3, cudart.cudaMemcpyDeviceToDevice, stream),
                    "cudaMemcpyAsync of a decoded image");
            return;
        }
        fromSize.width(w).height(h);
        fromRect.x(0).y(0).width(w).height(h);
        toSize.width(toWidth).height(toHeight);
        toRect.x(0).y(0).width(toWidth).height(toHeight);
        nppCheck(
                nppig.nppiResize_8u_C3R_Ctx(
                        from,
                        w * 3,
                        fromSize,
                        fromRect,
                        to,
                        toWidth * 3,
                        toSize,
                        toRect,
                        nppc.NPPI_INTER_LINEAR,
                        npp),
                "nppiResize_8u_C3R");
    }

    /**
     * The float input: the staged uint8 rows converted to float, scaled to (pixel / 255 - mean) /
     * std per channel (all rows at once, as one tall image), then each decoded row split into the
     * three planes of its row of {@code target}.
     */
    private void normalize(
            EncodedRows rows, int first, List<Image> images, int count, Pointer target)
            throws BackendException {
        int w = rows.width;
        int h = rows.height;
        long plane = (long) w * h;
        floats.ensure(count * plane * 3 * Float.BYTES);
        float[] mean = rows.mean();
        float[] std = rows.std();
        float[] scale = new float[3];
        float[] shift = new float[3];
        for (int c = 0; c < 3; c++) {
            scale[c] = 1f / (255f * std[c]);
            shift[c] = mean[c] / std[c];
        }
        FloatPointer values = new FloatPointer(floats.at(0));
        int step = w * 3 * Float.BYTES;
        try (NppiSize all = new NppiSize().width(w).height(h * count);
                NppiSize one = new NppiSize().width(w).height(h);
                FloatPointer scales = new FloatPointer(scale);
                FloatPointer shifts = new FloatPointer(shift);
                PointerPointer<BytePointer> planes = new PointerPointer<>(3)) {
            nppCheck(
                    nppidei.nppiConvert_8u32f_C3R_Ctx(staging.at(0), w * 3, values, step, all, npp),
                    "nppiConvert_8u32f_C3R");
            nppCheck(
                    nppial.nppiMulC_32f_C3IR_Ctx(scales, values, step, all, npp),
                    "nppiMulC_32f_C3IR");
            nppCheck(
                    nppial.nppiSubC_32f_C3IR_Ctx(shifts, values, step, all, npp),
                    "nppiSubC_32f_C3IR");
            for (Image image : images) {
                if (rows.failure(image.row()) != null) {
                    continue;
                }
                long row = image.row() - first;
                for (int c = 0; c < 3; c++) {
                    // a void* slot: JavaCPP adds a pointer's position there in bytes
                    planes.put(
                            c,
                            new BytePointer(target).position((row * 3 + c) * plane * Float.BYTES));
                }
                nppCheck(
                        nppidei.nppiCopy_32f_C3P3R_Ctx(
                                new FloatPointer(values).position(row * 3 * plane),
                                step,
                                planes,
                                w * Float.BYTES,
                                one,
                                npp),
                        "nppiCopy_32f_C3P3R");
            }
        }
    }

    private BytePointer bitstream(long at) {
        return new BytePointer(bitstreams).position(at);
    }

    private static long sum(List<Image> images) {
        return images.stream().mapToLong(Image::pixelBytes).sum();
    }

    private static long align(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void check(int status, String call) throws BackendException {
        if (status != nvjpeg.NVJPEG_STATUS_SUCCESS) {
            throw new BackendException(call + " failed with nvJPEG status " + status);
        }
    }

    /** NPP returns warnings as positive codes and errors as negative ones. */
    private static void nppCheck(int status, String call) throws BackendException {
        if (status < nppc.NPP_NO_ERROR) {
            throw new BackendException(call + " failed with NPP status " + status);
        }
    }

    /** After the lane's stream is synchronized: frees device memory, then nvJPEG's objects. */
    @Override
    public void close() {
        turns.close();
        floats.close();
        staging.close();
        decoded.close();
        bitstreams.close();
        if (parsedCreated) {
            nvjpeg.nvjpegJpegStreamDestroy(parsed);
            parsedCreated = false;
        }
        if (singleStateCreated) {
            nvjpeg.nvjpegJpegStateDestroy(singleState);
            singleStateCreated = false;
        }
        if (singleCreated) {
            nvjpeg.nvjpegDestroy(singleHandle);
            singleCreated = false;
        }
        if (batchedStateCreated) {
            nvjpeg.nvjpegJpegStateDestroy(batchedState);
            batchedStateCreated = false;
        }
        if (batchedCreated) {
            nvjpeg.nvjpegDestroy(batchedHandle);
            batchedCreated = false;
        }
        for (Pointer p :
                List.of(width, height, unsupported, fromSize, fromRect, toSize, toRect, npp)) {
            p.close();
        }
    }

    /** Device memory that grows to the largest size asked for, never shrinks. */
    private static final class DeviceArena implements AutoCloseable {
        private final String what;
        private final Pointer memory = new Pointer();
        private long capacity;

        DeviceArena(String what) {
            this.what = what;
        }

        /** Grows to {@code bytes}; growing frees the old memory (cudaFree waits for the device). */
        void ensure(long bytes) throws BackendException {
            if (bytes <= capacity) {
                return;
            }
            close();
            Cuda.check(cudart.cudaMalloc(memory, bytes), "cudaMalloc(" + bytes + ") for " + what);
            capacity = bytes;
        }

        long capacity() {
            return capacity;
        }

        BytePointer at(long offset) {
            return new BytePointer(memory).position(offset);
        }

        @Override
        public void close() {
            if (capacity > 0) {
                Cuda.checkQuietly(cudart.cudaFree(memory), "cudaFree");
                memory.setNull();
                capacity = 0;
            }
        }
    }
}
