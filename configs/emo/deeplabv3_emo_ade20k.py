_base_ = './deeplabv3_emo-5m_8xb4-80k_ade20k-512x512.py'
