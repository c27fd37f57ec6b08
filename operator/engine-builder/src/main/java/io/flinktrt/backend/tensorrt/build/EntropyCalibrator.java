package io.flinktrt.backend.tensorrt.build;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.tensorrt.gpu.Cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.tensorrt.nvinfer.IInt8EntropyCalibrator2;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Feeds calibration samples to TensorRT's INT8 entropy calibrator, {@code batch} samples at a time,
 * and keeps the calibration cache: when the cache file exists TensorRT reads it and asks for no
 * data. TensorRT calls these methods from the building thread and they are noexcept, so a failure
 * is kept and reported after the build. The builder holds only a weak reference to this object:
 * keep it reachable until the build returns.
 */
final class EntropyCalibrator extends IInt8EntropyCalibrator2 {

    private static final Logger LOG = LoggerFactory.getLogger(EntropyCalibrator.class);

    private final CalibrationSamples samples;
    private final List<String> inputs;
    private final List<Integer> sampleBytes;
    private final int batch;
    private final Path cacheFile;
    private final List<Pointer> deviceBuffers = new ArrayList<>();
    private final BytePointer staging;

    /**
     * TensorRT may read the cache more than once; what it was given stays valid until the build
     * ends.
     */
    private final List<BytePointer> cachesHandedOut = new ArrayList<>();

    private int nextSample;
    private volatile String failure;

    /**
     * @param samples null when the cache file exists and holds the calibration
     */
    EntropyCalibrator(
            CalibrationSamples samples, Map<String, Integer> sampleBytes, int batch, Path cacheFile)
            throws BackendException {
        this.samples = samples;
        this.inputs = List.copyOf(sampleBytes.keySet());
        this.sampleBytes = List.copyOf(sampleBytes.values());
        this.batch = batch;
        this.cacheFile = cacheFile;
        long largest = 0;
        for (int bytes : this.sampleBytes) {
            Pointer device = new Pointer();
            Cuda.check(
                    cudart.cudaMalloc(device, (long) bytes * batch), "cudaMalloc for calibration");
            deviceBuffers.add(device);
            largest = Math.max(largest, (long) bytes * batch);
        }
        this.staging = new BytePointer(largest);
    }

    /** The first error a callback met, or null. */
    String failure() {
        return failure;
    }

    @Override
    public int getBatchSize() {
        return 1; // explicit batch: every tensor handed over already has its batch dimension
    }

    @Override
    public boolean getBatch(PointerPointer bindings, PointerPointer names, int count) {
        try {
            if (samples == null || nextSample + batch > samples.count()) {
                return false;
            }
            for (int i = 0; i < inputs.size(); i++) {
                int size = sampleBytes.get(i);
                for (int s = 0; s < batch; s++) {
                    staging.position((long) s * size)
                            .put(samples.sample(inputs.get(i), nextSample + s));
                }
                staging.position(0);
                Cuda.check(
                        cudart.cudaMemcpy(
                                deviceBuffers.get(i),
                                staging,
                                (long) size * batch,
                                cudart.cudaMemcpyHostToDevice),
                        "cudaMemcpy of calibration data");
                for (int n = 0; n < count; n++) {
                    if (inputs.get(i).equals(names.getString(n))) {
                        bindings.put(n, deviceBuffers.get(i));
                    }
                }
            }
            nextSample += batch;
            LOG.info("INT8 calibration: {} of {} samples", nextSample, samples.count());
            return true;
        } catch (Throwable e) {
            failure = "calibration batch at sample " + nextSample + " failed: " + e;
            return false;
        }
    }

    @Override
    public Pointer readCalibrationCache(LongPointer length) {
        try {
            if (cacheFile != null && Files.isRegularFile(cacheFile)) {
                byte[] bytes = Files.readAllBytes(cacheFile);
                BytePointer cache =
                        new BytePointer(bytes.length)
                                .put(bytes); // TensorRT reads it after we return
                cachesHandedOut.add(cache);
                length.put(bytes.length);
                LOG.info("INT8 calibration: reusing cache {} ({} bytes)", cacheFile, bytes.length);
                return cache;
            }
        } catch (Throwable e) {
            failure = "reading calibration cache " + cacheFile + " failed: " + e;
        }
        length.put(0L);
        return null;
    }

    @Override
    public void writeCalibrationCache(Pointer cache, long length) {
        if (cacheFile == null) {
            return;
        }
        try {
            byte[] bytes = new byte[Math.toIntExact(length)];
            new BytePointer(cache).capacity(length).get(bytes);
            Files.write(cacheFile, bytes);
            LOG.info("INT8 calibration: cache written to {} ({} bytes)", cacheFile, length);
        } catch (Throwable e) {
            failure = "writing calibration cache " + cacheFile + " failed: " + e;
        }
    }

    /** Frees the device buffers; the Java-allocated native peer is freed by JavaCPP. */
    void release() {
        deviceBuffers.forEach(p -> Cuda.checkQuietly(cudart.cudaFree(p), "cudaFree"));
        deviceBuffers.clear();
        staging.deallocate();
        cachesHandedOut.forEach(BytePointer::deallocate);
        close();
    }

    static boolean cacheExists(Path cacheFile) throws IOException {
        return cacheFile != null && Files.isRegularFile(cacheFile) && Files.size(cacheFile) > 0;
    }
}
