/* jieba 0.42's best segmentation route (Tokenizer.get_DAG + Tokenizer.calc) in one C pass.
 *
 * route(freq, sentence, logtotal) -> list of (log probability, x) for idx = 0 .. N, where x is
 * the end index of the best word starting at idx, exactly the `route` dict jieba's calc fills:
 *   DAG[k]     = every i >= k with sentence[k:i+1] in freq and freq[...] != 0, extending i while
 *                sentence[k:i+1] is in freq (freq holds every word prefix, with frequency 0);
 *                [k] when there is none;
 *   route[N]   = (0, 0)
 *   route[idx] = max over x in DAG[idx] of ((log(freq.get(sentence[idx:x+1]) or 1) - logtotal)
 *                + route[x+1][0], x)     -- tuples compare, so equal probabilities go to the larger x
 * The arithmetic is the same double operations in the same order as Python's, so the result is
 * bit-for-bit jieba's. Written for reviewlake (pipelines/segment.py, backend "jieba_c").
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

/* freq[word] as a double, or 1.0 when absent or zero ("or 1"); -1.0 with an exception set on error */
static double word_freq(PyObject *value) {
    double f;
    if (value == NULL) return 1.0;
    f = PyFloat_AsDouble(value);
    if (f == -1.0 && PyErr_Occurred()) return -1.0;
    return f == 0.0 ? 1.0 : f;
}

static PyObject *route(PyObject *self, PyObject *args) {
    PyObject *freq, *sentence, *out = NULL;
    double logtotal;
    if (!PyArg_ParseTuple(args, "O!Ud", &PyDict_Type, &freq, &sentence, &logtotal)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(sentence);
    double *best = PyMem_Malloc(sizeof(double) * (size_t)(n + 1));
    Py_ssize_t *next = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n + 1));
    if (best == NULL || next == NULL) { PyErr_NoMemory(); goto done; }
    best[n] = 0.0;
    next[n] = 0;
    for (Py_ssize_t idx = n - 1; idx >= 0; idx--) {
        int found = 0;
        double top = 0.0;
        Py_ssize_t top_x = idx;
        for (Py_ssize_t i = idx; i < n; i++) {
            PyObject *frag = PyUnicode_Substring(sentence, idx, i + 1);
            if (frag == NULL) goto done;
            PyObject *value = PyDict_GetItemWithError(freq, frag);  /* borrowed */
            Py_DECREF(frag);
            if (value == NULL) {
                if (PyErr_Occurred()) goto done;
                break;  /* not even a prefix of a word: the DAG of idx ends here */
            }
            int nonzero = PyObject_IsTrue(value);
            if (nonzero < 0) goto done;
            if (!nonzero) continue;  /* a prefix only */
            double f = word_freq(value);
            if (f == -1.0 && PyErr_Occurred()) goto done;
            double p = (log(f) - logtotal) + best[i + 1];
            if (!found || p >= top) {  /* ties: the larger x, as Python's max over (p, x) */
                top = p;
                top_x = i;
                found = 1;
            }
        }
        if (!found) {  /* DAG[idx] = [idx]: the single character, frequency 1 */
            PyObject *ch = PyUnicode_Substring(sentence, idx, idx + 1);
            if (ch == NULL) goto done;
            PyObject *value = PyDict_GetItemWithError(freq, ch);
            Py_DECREF(ch);
            if (value == NULL && PyErr_Occurred()) goto done;
            double f = word_freq(value);
            if (f == -1.0 && PyErr_Occurred()) goto done;
            top = (log(f) - logtotal) + best[idx + 1];
            top_x = idx;
        }
        best[idx] = top;
        next[idx] = top_x;
    }
    out = PyList_New(n + 1);
    if (out == NULL) goto done;
    for (Py_ssize_t idx = 0; idx <= n; idx++) {
        PyObject *item = idx == n ? Py_BuildValue("(ii)", 0, 0) : Py_BuildValue("(dn)", best[idx], next[idx]);
        if (item == NULL) { Py_CLEAR(out); goto done; }
        PyList_SET_ITEM(out, idx, item);
    }
done:
    PyMem_Free(best);
    PyMem_Free(next);
    return out;
}

static PyMethodDef methods[] = {
    {"route", route, METH_VARARGS, "route(freq, sentence, logtotal) -> [(log p, x), ...]: jieba's calc over its DAG."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jieba_route", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jieba_route(void) { return PyModule_Create(&module); }
