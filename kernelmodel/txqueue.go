package kernelmodel

// NumTxQueues is dev->num_tx_queues.
func (d *NetDevice) NumTxQueues() int { return len(d.tx) }

// Start is netif_tx_start_queue(): let the queue transmit, without the
// wake-up of netif_tx_wake_queue (nobody waits on a queue that was never
// started).
func (q *TxQueue) Start() { q.stopped = false }
