# shellcheck shell=bash
# The knobs of the SLURM recipes (cluster/slurm/). Edit them here, or set any of them in the
# environment of `submit.sh` (the environment wins). Relative paths are relative to the folder
# you submit from. docs/cluster.md explains each.

# The program and the model (any --model of `repbench models list`).
REPBENCH=${REPBENCH:-build/repbench}
MODEL=${MODEL:-torchscript:weights/sscd_disc_mixup.pt}

# The training set and the generations: a folder or a list file (one path a line).
TRAIN=${TRAIN:-train.txt}
GENERATED=${GENERATED:-samples.txt}

# Everything the jobs write goes under WORK: feats/ (training shards), gen/ (the generations'
# descriptors), parts/ (the scan's partials), logs/ (one file per task and job), train.npy (the
# merged descriptors of `submit.sh extract`) and scan/ (the merged scan of `submit.sh scan`).
WORK=${WORK:-repbench-work}

# How the work is cut: array tasks (training shards), CPU threads of each task.
SHARDS=${SHARDS:-16}
THREADS=${THREADS:-4}

# Descriptor files: float16 halves the disk and the reading (scores differ from float32 by the
# rounding only; docs/cluster.md).
DTYPE=${DTYPE:-float16}

# The scan: matches per generation, the baseline sample, training rows read a block.
K=${K:-5}
BASELINE_SAMPLE=${BASELINE_SAMPLE:-1000}
BLOCK_ROWS=${BLOCK_ROWS:-65536}

# More options of every `extract` (e.g. --on-decode-error skip, --batch-size 64, --chunk-size 1024:
# the images a killed task does not redo) and of every scan task (--threshold, --dup-threshold,
# --duplicate-sample, --seed: the tasks must agree, the merge checks they did).
EXTRACT_OPTIONS=${EXTRACT_OPTIONS:-}
SCAN_OPTIONS=${SCAN_OPTIONS:---threshold 0.5}

# Memory of a task. Extraction holds the model, a batch and the shard's descriptors:
EXTRACT_MEM_MB=${EXTRACT_MEM_MB:-8192}
# A scan task's memory follows the streamed scan's formula (README, "Training sets larger than
# memory"); with K, BASELINE_SAMPLE, BLOCK_ROWS and THREADS above, its letters are: training
# images, generations, values a row (the model's descriptor size) and the longest image path.
TRAIN_IMAGES=${TRAIN_IMAGES:-12000000}
GENERATED_IMAGES=${GENERATED_IMAGES:-10000}
ROW_VALUES=${ROW_VALUES:-512}
NAME_LENGTH=${NAME_LENGTH:-128}
# The program itself (code, libraries, allocator) on top of the formula:
PROCESS_MEM_MB=${PROCESS_MEM_MB:-512}

# Anything else sbatch needs on your cluster (partition, account, time limit), e.g.
# SBATCH_OPTIONS="--partition=cpu --time=4:00:00".
SBATCH_OPTIONS=${SBATCH_OPTIONS:-}
