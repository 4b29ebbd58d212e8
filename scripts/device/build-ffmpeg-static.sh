#!/bin/bash
# Build a small static FFmpeg (CLI + static libs + headers) from Debian's ffmpeg source,
# with libx264, NVDEC/NVENC (ffnvcodec), scale_cuda (clang), VAAPI off, for device checks.
# Needs: apt-get source ffmpeg (deb-src), clang, nasm, libx264-dev, libffmpeg-nvenc-dev.
set -euo pipefail
SRC=${1:?ffmpeg source dir}; PREFIX=${2:?install prefix}
cd "$SRC"
./configure --prefix="$PREFIX" --enable-gpl --enable-static --disable-shared --disable-doc --disable-debug \
  --disable-autodetect --enable-pthreads --enable-libx264 --enable-ffnvcodec --enable-nvenc --enable-nvdec --enable-cuvid --enable-cuda-llvm \
  --disable-everything \
  --enable-protocol=file,pipe,udp,tcp,http,rtp --enable-indev=lavfi \
  --enable-demuxer=mpegts,mov,matroska,h264,hevc,aac,data,image2,hls,mjpeg,mpegps \
  --enable-muxer=mpegts,hls,mp4,image2,null,data,segment,mjpeg,webvtt \
  --enable-decoder=h264,hevc,mpeg2video,aac,mp2,mp3,ac3,mjpeg,png,h264_cuvid,hevc_cuvid,rawvideo,pcm_s16le,pcm_f32le,pcm_f64le \
  --enable-encoder=libx264,aac,mjpeg,png,h264_nvenc,hevc_nvenc,rawvideo,wrapped_avframe \
  --enable-parser=h264,hevc,aac,mpegvideo,mjpeg,mpegaudio,ac3 \
  --enable-bsf=h264_mp4toannexb,aac_adtstoasc,hevc_mp4toannexb \
  --enable-hwaccel=h264_nvdec,hevc_nvdec,mpeg2_nvdec \
  --enable-filter=buffer,buffersink,abuffer,abuffersink,scale,split,format,setsar,null,nullsink,fps,select,tile,pad,crop,hwupload_cuda,hwupload,hwdownload,scale_cuda,yadif,yadif_cuda,bwdif,testsrc2,sine,aresample,aformat,anull,asetnsamples,setpts,trim,thumbnail \
  --extra-libs="-lpthread -ldl -lm" >"${TMPDIR:-/tmp}/ffmin-configure.log"
make -j"$(nproc)" >"${TMPDIR:-/tmp}/ffmin-make.log" 2>&1
make install >/dev/null
ls -la "$PREFIX/bin"
