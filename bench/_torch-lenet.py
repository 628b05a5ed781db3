# The benchmark's LeNet-like network in PyTorch on its CPU backend, trained with Adam at batch 64
# for a few steps on one thread (or KILN_BENCH_THREADS); prints one JSON line with samples/s in
# wall time and per CPU-second of the process (medians of the timed steps). Run by bench/conv.ts
# as a subprocess when torch is importable.
import json, os, sys, time
import torch
from torch import nn

threads = int(os.environ.get("KILN_BENCH_THREADS", "1"))
torch.set_num_threads(threads)
torch.manual_seed(0)
batch, steps = 64, int(sys.argv[1]) if len(sys.argv) > 1 else 4
model = nn.Sequential(
    nn.Conv2d(1, 32, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 5, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))
loss_fn = nn.CrossEntropyLoss()
times, cpu = [], []
for i in range(steps + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()
    if i > 0:
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
times.sort()
cpu.sort()
print(json.dumps({
    "version": torch.__version__,
    "threads": threads,
    "samplesPerSecond": batch / times[len(times) // 2],
    "samplesPerCpuSecond": batch / cpu[len(cpu) // 2],
}))
