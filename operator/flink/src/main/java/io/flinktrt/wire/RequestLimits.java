package io.flinktrt.wire;

import org.apache.flink.annotation.Internal;

import java.io.Serializable;

/**
 * Bounds on a request and on what is written for it. The request bounds are checked before anything
 * is allocated for it, so that one hostile record cannot exhaust memory; the outcome bounds are
 * what the sink takes, so that no record can make the sink fail.
 *
 * @param maxResultBytes largest encoded result: a request whose result could be larger fails as
 *     RESULT_TOO_LARGE before it runs
 * @param maxFailureBytes largest encoded failure: a failure that would be larger carries only the
 *     first bytes of its request
 */
@Internal
public record RequestLimits(
        int maxRequestBytes,
        int maxTensors,
        long maxTensorElements,
        boolean rejectNonFinite,
        int maxResultBytes,
        int maxFailureBytes)
        implements Serializable {

    /** No bound on outcomes: for sinks without a record size limit. */
    public static final int UNLIMITED = Integer.MAX_VALUE;
}
