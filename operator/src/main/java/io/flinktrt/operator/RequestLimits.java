package io.flinktrt.operator;

import java.io.Serializable;

/**
 * Bounds checked before anything is allocated for a request, so that one hostile record cannot
 * exhaust memory.
 */
public record RequestLimits(int maxRequestBytes, int maxTensors, long maxTensorElements, boolean rejectNonFinite)
        implements Serializable {}
