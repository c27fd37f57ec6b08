package io.flinktrt.backend.tensorrt.runtime;

import org.apache.flink.annotation.PublicEvolving;

/** Where the JPEGs of an image input are decoded with TensorRT ({@code tensorrt.image-decode}). */
@PublicEvolving
public enum ImageDecoding {
    /** nvJPEG on the GPU's hardware JPEG decoder (H100, H200, A100); its GPU backend on others. */
    HARDWARE,
    /**
     * nvJPEG's GPU backend (CUDA kernels, Huffman decoding on the CPU), hardware decoder or not.
     */
    GPU,
    /** ImageIO on the scheduler's copy threads, as with ONNX Runtime. */
    CPU
}
