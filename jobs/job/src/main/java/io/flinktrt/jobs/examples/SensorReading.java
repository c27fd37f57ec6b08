package io.flinktrt.jobs.examples;

/** The example job's input: a Flink POJO (public fields, a no-argument constructor). */
public class SensorReading {

    public String id;
    public float[] features;

    public SensorReading() {}

    public SensorReading(String id, float[] features) {
        this.id = id;
        this.features = features;
    }
}
