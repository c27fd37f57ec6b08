package io.flinktrt.jobs.examples;

/** The example job's output: the class the model picks, or why a reading got none. */
public class Prediction {

    public String id;

    /** Index of the most probable class; -1 when {@link #error} is set. */
    public int label;

    public float[] probabilities;

    /** Null for a prediction; otherwise the failure code and message. */
    public String error;

    public Prediction() {}

    static Prediction of(String id, float[] probabilities) {
        Prediction prediction = new Prediction();
        prediction.id = id;
        prediction.probabilities = probabilities;
        for (int k = 1; k < probabilities.length; k++) {
            if (probabilities[k] > probabilities[prediction.label]) {
                prediction.label = k;
            }
        }
        return prediction;
    }

    static Prediction failure(String id, String error) {
        Prediction prediction = new Prediction();
        prediction.id = id;
        prediction.label = -1;
        prediction.error = error;
        return prediction;
    }
}
