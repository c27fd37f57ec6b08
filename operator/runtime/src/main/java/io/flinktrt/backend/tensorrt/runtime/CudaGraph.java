package io.flinktrt.backend.tensorrt.runtime;

import io.flinktrt.backend.BackendException;
import io.flinktrt.backend.tensorrt.gpu.Cuda;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernels of one {@code enqueueV3} recorded as a CUDA graph, replayed with a single launch: at
 * batch 1 the launch overhead of a few hundred kernels is a large part of the batch's time. Valid
 * only while the context keeps the shapes and tensor addresses it was captured with.
 */
final class CudaGraph implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CudaGraph.class);

    /** Work to capture; returns false when it could not be enqueued. */
    @FunctionalInterface
    interface Enqueue {
        boolean run();
    }

    private final CUgraph_st graph;
    private final CUgraphExec_st executable;

    private CudaGraph(CUgraph_st graph, CUgraphExec_st executable) {
        this.graph = graph;
        this.executable = executable;
    }

    /**
     * Captures what {@code enqueue} puts on {@code stream}; null (after a warning) when CUDA or
     * TensorRT cannot capture it, so the caller goes on with plain enqueues. Capture mode is
     * thread-local: other threads of the JVM may keep using CUDA meanwhile.
     */
    static CudaGraph capture(CUstream_st stream, Enqueue enqueue, String what) {
        int status = cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal);
        if (status != cudart.cudaSuccess) {
            return failed(what, "cudaStreamBeginCapture", status);
        }
        boolean enqueued = enqueue.run();
        CUgraph_st graph = new CUgraph_st();
        status =
                cudart.cudaStreamEndCapture(
                        stream, graph); // always end, so the stream leaves capture mode
        if (!enqueued || status != cudart.cudaSuccess || graph.isNull()) {
            if (!graph.isNull()) {
                cudart.cudaGraphDestroy(graph);
            }
            return failed(
                    what, enqueued ? "cudaStreamEndCapture" : "enqueueV3 while capturing", status);
        }
        CUgraphExec_st executable = new CUgraphExec_st();
        status = cudart.cudaGraphInstantiate(executable, graph, 0L);
        if (status != cudart.cudaSuccess) {
            cudart.cudaGraphDestroy(graph);
            return failed(what, "cudaGraphInstantiate", status);
        }
        return new CudaGraph(graph, executable);
    }

    private static CudaGraph failed(String what, String call, int status) {
        cudart.cudaGetLastError(); // clears the failed capture's error, so the next plain enqueue
        // is not blamed for it
        LOG.warn(
                "No CUDA graph for {}: {} failed ({}); batches of it run with plain enqueueV3.",
                what,
                call,
                Cuda.errorName(status));
        return null;
    }

    void launch(CUstream_st stream) throws BackendException {
        Cuda.check(cudart.cudaGraphLaunch(executable, stream), "cudaGraphLaunch");
    }

    @Override
    public void close() {
        Cuda.checkQuietly(cudart.cudaGraphExecDestroy(executable), "cudaGraphExecDestroy");
        Cuda.checkQuietly(cudart.cudaGraphDestroy(graph), "cudaGraphDestroy");
    }
}
