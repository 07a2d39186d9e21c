import { runWorker } from './app/cluster/worker-main';

runWorker();
