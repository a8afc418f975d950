"""Running an exported ONNX file (:mod:`mmlightvit.apis.export`) with the CPU
deployment runtimes: onnxruntime (a dependency of the project) and OpenVINO
(optional: ``requirements/optional.txt``).

    run = load_backend('openvino', 'model.onnx', precision='bf16', threads=2)
    outputs = run(x)  # list of numpy arrays, in the file's output order

Precisions: onnxruntime runs fp32; OpenVINO fp32 (``INFERENCE_PRECISION_HINT
f32``: OpenVINO would otherwise pick bf16 by itself on CPUs with AMX) or bf16
(on CPUs with AMX / AVX512-BF16).
"""
import importlib.util

from .fast import cpu_bf16_support

BACKENDS = ('onnxruntime', 'openvino')
_MODULES = {'onnxruntime': 'onnxruntime', 'openvino': 'openvino'}
INSTALL = ('pip install -c requirements/constraints.txt '
           '-r requirements/optional.txt')


class BackendUnavailable(RuntimeError):
    """A backend that is not installed, or a precision it cannot run here."""


def backend_available(name):
    """Whether the runtime of backend ``name`` is installed."""
    return importlib.util.find_spec(_MODULES[name]) is not None


def _check(name, precision):
    if name not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {name!r}')
    if not backend_available(name):
        raise BackendUnavailable(f'{name} is not installed (optional extra: '
                                 f'{INSTALL})')
    allowed = ('fp32', 'bf16') if name == 'openvino' else ('fp32', )
    if precision not in allowed:
        raise BackendUnavailable(f'{name} runs {" or ".join(allowed)} here, '
                                 f'not {precision}')
    if precision == 'bf16':
        ok, reason = cpu_bf16_support()
        if not ok:
            raise BackendUnavailable(f'{name} bf16: {reason}')


def load_backend(name, path, precision='fp32', threads=None):
    """A callable running the ONNX file ``path`` with backend ``name`` on
    the CPU: ``run(x)`` (a CPU tensor or array) -> list of numpy arrays.

    Raises:
        BackendUnavailable: the runtime is not installed, or cannot run
            ``precision`` here.
    """
    _check(name, precision)
    if name == 'onnxruntime':
        import onnxruntime as ort
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options,
                                       providers=['CPUExecutionProvider'])
        input_name = session.get_inputs()[0].name
        return lambda x: session.run(None, {input_name: _numpy(x)})
    import openvino as ov
    config = {'INFERENCE_PRECISION_HINT': 'f32' if precision == 'fp32'
              else 'bf16', 'PERFORMANCE_HINT': 'LATENCY'}
    if threads:
        config['INFERENCE_NUM_THREADS'] = threads
    compiled = ov.Core().compile_model(path, 'CPU', config)
    request = compiled.create_infer_request()

    def run(x):
        request.infer([_numpy(x)])
        return [request.get_output_tensor(i).data.copy()
                for i in range(len(compiled.outputs))]
    return run


def _numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else x
