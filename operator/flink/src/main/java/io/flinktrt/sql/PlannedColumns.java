package io.flinktrt.sql;

import io.flinktrt.backend.ModelSignature;

/** What every planned model binding tells its codec: the model, and the OUTPUT row's layout. */
interface PlannedColumns {

    /** The model's inputs and outputs as planned. */
    ModelSignature signature();

    /** The error column's position in OUTPUT, or -1 when there is none. */
    int errorPosition();

    /** The number of OUTPUT columns. */
    int outputArity();
}
