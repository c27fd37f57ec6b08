package io.flinktrt.sql;

/**
 * A row the model cannot take (a null, a wrong length, a rejected NaN); its message says which
 * column and why.
 */
final class BadRowException extends Exception {

    private static final long serialVersionUID = 1L;

    BadRowException(String message) {
        super(message, null, false, false); // expected per row: no stack trace to fill
    }
}
